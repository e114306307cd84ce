#pragma once
// The synthetic talking-face dataset: clips of random identities saying sentences in several
// languages, each with its speech, the rendered ground-truth video and the mouth track.
//
// Layout of a dataset folder:
//   train.jsonl, test.jsonl        one clip per line (paths relative to the folder)
//   clips/<id>/portrait.png        the identity at rest (what `thg generate` animates)
//   clips/<id>/speech.wav          16 kHz mono
//   clips/<id>/video.mp4           the ground truth (H.264 + AAC)
//   clips/<id>/motion.csv          per frame: the motion-warp family's motion (synth/motion_track.h)
//   clips/<id>/mouth.csv           per frame: mouth shape and the mouth's pixel box; written last,
//                                  so its presence marks a complete clip (resume skips those)
// Train and test differ in identities (separate seed streams) and in sentences (a fixed tenth
// of every language's sentences is held out).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "io/audio.h"
#include "synth/mouth.h"

namespace thg::synth {

struct Voice {
  std::string language;  // espeak-ng voice name of the language ("en")
  std::string variant;   // espeak-ng variant ("m3", "f2"); empty for the default
  int rate_wpm = 160;
  int pitch = 50;        // 0..100
};

struct Speech {
  io::AudioBuffer audio;                // any rate, mono
  std::vector<PhonemeEvent> phonemes;   // start times in seconds from the start of `audio`
};

// Turns text into speech with phoneme timing (espeak-ng in thg-synth; a fake in tests).
class SpeechSynthesizer {
 public:
  virtual ~SpeechSynthesizer() = default;
  virtual Speech speak(const std::string& text, const Voice& voice) = 0;
};

struct ClipSpec {
  std::string id;      // "train-000042"
  std::string split;   // "train" or "test"
  uint64_t identity_seed = 0;
  uint64_t motion_seed = 0;
  std::string language;
  int64_t sentence = 0;
  std::string text;
  Voice voice;
  double lead_silence = 0.2, tail_silence = 0.2;  // seconds of silence around the speech
};

// The index-th clip of a split, fully determined by the dataset seed.
ClipSpec clip_spec(uint64_t dataset_seed, const std::string& split, int64_t index,
                   const std::vector<std::string>& languages);

struct ClipFiles {
  std::filesystem::path portrait, audio, video, mouth;
  int64_t frames = 0;
  double seconds = 0;
};

// Speaks, renders and encodes one clip into `dir`, which is emptied first (what an interrupted run
// left there is redone).
// Without render_video the clip has no video.mp4 (motion-only datasets: no frame is rendered).
ClipFiles write_clip(const ClipSpec& spec, SpeechSynthesizer& speech, int size, int fps,
                     const std::filesystem::path& dir, bool render_video = true);

struct DatasetOptions {
  std::filesystem::path output;
  int64_t train_clips = 2000;
  int64_t test_clips = 120;
  int size = 128;
  int fps = 25;
  uint64_t seed = 1;
  std::vector<std::string> languages;  // empty: all
  int threads = 0;                     // 0: hardware concurrency
  bool render_video = true;            // false: speech, portraits and tracks only (motion training)
  std::function<void(int64_t done, int64_t total)> on_clip;
};

struct DatasetSummary {
  int64_t clips = 0, skipped = 0, frames = 0;
  double seconds_of_speech = 0;
};

// Writes (or completes, after an interruption) a dataset; the manifests are written last.
DatasetSummary make_dataset(const DatasetOptions& options, SpeechSynthesizer& speech);

// One row of a dataset manifest, for the trainer and the evaluator.
struct DatasetClip {
  std::string id, split, language, text;
  std::filesystem::path portrait, audio, video, mouth;
  uint64_t identity_seed = 0;
};
// Reads train.jsonl / test.jsonl (paths resolved against its folder). Throws Error::input.
std::vector<DatasetClip> read_dataset_manifest(const std::filesystem::path& manifest);

// Reads a clip's mouth.csv: per frame the mouth opening and the mouth's pixel box.
struct MouthRow {
  MouthShape shape;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};
std::vector<MouthRow> read_mouth_track(const std::filesystem::path& csv);

}  // namespace thg::synth
