#pragma once
// A progress bar with rate and ETA on stderr, drawn only when stderr is a terminal (or when forced),
// so that logs and pipes stay clean.
#include <chrono>
#include <cstdint>
#include <string>

namespace thg {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  void set_label(std::string label);  // shown from the next redraw
  void redraw();                      // draws now (rate-limited like advance)
  void finish();  // draws the final state and ends the line

  // Forces drawing on or off regardless of whether stderr is a terminal (tests, --progress).
  static void force_enabled(bool enabled);

 private:
  void draw(bool final);

  std::string label_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace thg
