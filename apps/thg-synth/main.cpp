// thg-synth: makes the synthetic talking-face dataset that THG's default model is trained and
// evaluated on (lib/synth/dataset.h describes the layout).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <sstream>

#include "core/cancel.h"
#include "core/error.h"
#include "core/failure_message.h"
#include "core/progress.h"
#include "espeak_synthesizer.h"
#include "synth/dataset.h"

int main(int argc, char** argv) {
  CLI::App app{"thg-synth: synthetic talking faces (procedural renderer + espeak-ng speech)"};
  thg::synth::DatasetOptions o;
  std::string languages;
  app.add_option("--out", o.output, "Dataset folder (created; an interrupted run is completed)")->required();
  app.add_option("--train-clips", o.train_clips, "Training clips")->capture_default_str();
  app.add_option("--test-clips", o.test_clips, "Held-out clips (unseen identities and sentences)")->capture_default_str();
  app.add_option("--size", o.size, "Frame size in pixels")->capture_default_str();
  app.add_option("--fps", o.fps, "Frames per second")->capture_default_str();
  app.add_option("--seed", o.seed, "Dataset seed")->capture_default_str();
  app.add_option("--languages", languages, "Comma-separated languages (default: en,de,fr,es,it,pt)");
  app.add_option("--threads", o.threads, "Worker threads (0: one per core)")->capture_default_str();
  bool no_video = false;
  app.add_flag("--no-video", no_video,
               "Speech, portraits and motion/mouth tracks only, no rendered video (what motion-warp training needs; much faster)");
  CLI11_PARSE(app, argc, argv);
  std::stringstream ss(languages);
  for (std::string l; std::getline(ss, l, ',');)
    if (!l.empty()) o.languages.push_back(l);

  thg::install_interrupt_handlers();
  try {
    thg::synth::EspeakSynthesizer speech;
    thg::Progress bar("synth", o.train_clips + o.test_clips, "clips");
    o.on_clip = [&](int64_t, int64_t) { bar.advance(); };
    const auto start = std::chrono::steady_clock::now();
    o.render_video = !no_video;
    const thg::synth::DatasetSummary s = thg::synth::make_dataset(o, speech);
    bar.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%lld clips (%lld already there), %lld frames, %.1f min of speech in %.0f s -> %s\n",
                static_cast<long long>(s.clips), static_cast<long long>(s.skipped), static_cast<long long>(s.frames),
                s.seconds_of_speech / 60.0, secs, o.output.c_str());
    return 0;
  } catch (const thg::Error& e) {
    std::fprintf(stderr, "thg-synth: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "thg-synth: %s\n", thg::failure_message(e).c_str());
    return 1;
  }
}
