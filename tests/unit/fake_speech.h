#pragma once
// A deterministic stand-in for espeak-ng in tests: a tone per syllable and evenly timed phonemes,
// so dataset and training tests run without the espeak-ng library.
#include <cmath>
#include <string>

#include "synth/dataset.h"
#include "test_util.h"

namespace thg::test {

class FakeSpeech : public synth::SpeechSynthesizer {
 public:
  synth::Speech speak(const std::string& text, const synth::Voice& voice) override {
    synth::Speech s;
    s.audio.sample_rate = 16000;
    s.audio.channels = 1;
    const double phone = 60.0 / voice.rate_wpm / 3.0;  // ~3 phonemes per word
    const char* cycle[] = {"p", "a", "t", "i", "m", "o", ""};
    const size_t count = std::max<size_t>(4, text.size() / 2);
    for (size_t k = 0; k < count; ++k) s.phonemes.push_back({k * phone, cycle[k % 7]});
    const auto n = static_cast<size_t>(count * phone * 16000);
    for (size_t i = 0; i < n; ++i) {
      const size_t k = static_cast<size_t>(i / (phone * 16000));
      const bool vowel = k % 7 == 1 || k % 7 == 3 || k % 7 == 5;
      s.audio.samples.push_back(static_cast<float>((vowel ? 0.5 : 0.05) * std::sin(i * 2 * M_PI * 180.0 / 16000.0)));
    }
    return s;
  }
};

// A 3-train-clip + 1-test-clip, 64 px dataset (the tiny model's size) made once per test process.
// Returns the folder; train.jsonl and test.jsonl are in it.
inline const std::filesystem::path& tiny_synth_dataset() {
  static ScratchDir dir;
  static const std::filesystem::path root = [] {
    FakeSpeech speech;
    synth::DatasetOptions o;
    o.output = dir.path();
    o.train_clips = 3;
    o.test_clips = 1;
    o.size = 64;
    o.threads = 1;
    synth::make_dataset(o, speech);
    return dir.path();
  }();
  return root;
}

}  // namespace thg::test
