#pragma once
// Records the distinct problem shapes that reach the fusable operations (attention, GroupNorm +
// SiLU) while a recorder is alive on the calling thread, so that kernel benchmarks measure a
// model's real shapes instead of a hand-written list that drifts from the code.
#include <array>
#include <cstdint>
#include <vector>

namespace thg::nn {

class ShapeRecorder {
 public:
  ShapeRecorder();  // becomes the calling thread's recorder (nested: the innermost records)
  ~ShapeRecorder();
  ShapeRecorder(const ShapeRecorder&) = delete;
  ShapeRecorder& operator=(const ShapeRecorder&) = delete;

  std::vector<std::array<int64_t, 5>> attention;   // B, H, Lq, Lk, D (distinct, in first-seen order)
  std::vector<std::array<int64_t, 4>> group_norm;  // N, C, spatial elements, groups

  // Called by the operations; no-ops without a recorder.
  static void record_attention(const std::array<int64_t, 5>& shape);
  static void record_group_norm(const std::array<int64_t, 4>& shape);

 private:
  ShapeRecorder* previous_;
};

}  // namespace thg::nn
