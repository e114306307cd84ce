#include "synth/dataset.h"
#include "synth/motion_track.h"

#include <optional>

#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/cancel.h"
#include "core/error.h"
#include "io/audio.h"
#include "io/media_writers.h"
#include "io/mp4_writer.h"
#include "synth/face.h"
#include "synth/render.h"
#include "synth/sentences.h"

namespace thg::synth {

namespace fs = std::filesystem;

namespace {

constexpr int kSampleRate = 16000;

// Draws sentence indices until one falls in the wanted split.
int64_t pick_sentence(std::mt19937_64& rng, const std::string& language, bool held_out) {
  std::uniform_int_distribution<int64_t> any(0, sentence_count(language) - 1);
  while (true) {
    const int64_t s = any(rng);
    if (sentence_held_out(language, s) == held_out) return s;
  }
}


std::string clip_line(const ClipSpec& spec, const ClipFiles& files) {
  nlohmann::json j{{"id", spec.id},
                   {"split", spec.split},
                   {"portrait", "clips/" + spec.id + "/portrait.png"},
                   {"audio", "clips/" + spec.id + "/speech.wav"},
                   {"ground_truth", "clips/" + spec.id + "/video.mp4"},
                   {"mouth", "clips/" + spec.id + "/mouth.csv"},
                   {"identity_seed", spec.identity_seed},
                   {"language", spec.language},
                   {"sentence", spec.sentence},
                   {"text", spec.text},
                   {"voice", spec.voice.language + (spec.voice.variant.empty() ? "" : "+" + spec.voice.variant)},
                   {"frames", files.frames},
                   {"seconds", files.seconds}};
  return j.dump();
}

}  // namespace

ClipSpec clip_spec(uint64_t dataset_seed, const std::string& split, int64_t index,
                   const std::vector<std::string>& langs) {
  const bool test = split == "test";
  // Separate seed streams per split: test identities are never seen in training.
  const uint64_t stream = dataset_seed * 0x9E3779B97F4A7C15ULL + (test ? 0x7E57ULL : 0x7A1EULL);
  std::mt19937_64 rng(stream + static_cast<uint64_t>(index) * 0xD1B54A32D192ED03ULL);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  ClipSpec c;
  char id[32];
  std::snprintf(id, sizeof id, "%s-%06lld", split.c_str(), static_cast<long long>(index));
  c.id = id;
  c.split = split;
  c.identity_seed = rng();
  c.motion_seed = rng();
  c.language = langs[static_cast<size_t>(index % static_cast<int64_t>(langs.size()))];
  c.sentence = pick_sentence(rng, c.language, test);
  c.text = sentence(c.language, c.sentence);
  static const char* variants[] = {"", "m1", "m2", "m3", "m4", "m5", "m7", "f1", "f2", "f3", "f4", "f5"};
  c.voice.language = c.language;
  c.voice.variant = variants[rng() % std::size(variants)];
  c.voice.rate_wpm = static_cast<int>(uni(120, 200));
  c.voice.pitch = static_cast<int>(uni(30, 75));
  c.lead_silence = uni(0.1, 0.5);
  c.tail_silence = uni(0.1, 0.5);
  return c;
}

ClipFiles write_clip(const ClipSpec& spec, SpeechSynthesizer& synthesizer, int size, int fps, const fs::path& dir,
                     bool render_video) {
  // A clip is complete once its mouth.csv exists; anything else in its folder is what a killed
  // run left (files of the clip, a writer's hidden temporary) and is made again from scratch.
  fs::remove_all(dir);
  fs::create_directories(dir);
  Speech speech = synthesizer.speak(spec.text, spec.voice);
  io::AudioBuffer mono = io::resample(speech.audio, kSampleRate, 1);
  const auto lead = static_cast<size_t>(std::lround(spec.lead_silence * kSampleRate));
  const auto tail = static_cast<size_t>(std::lround(spec.tail_silence * kSampleRate));
  mono.samples.insert(mono.samples.begin(), lead, 0.0f);
  mono.samples.insert(mono.samples.end(), tail, 0.0f);
  for (PhonemeEvent& p : speech.phonemes) p.start += spec.lead_silence;

  ClipFiles files{dir / "portrait.png", dir / "speech.wav", dir / "video.mp4", dir / "mouth.csv"};
  files.seconds = mono.seconds();
  files.frames = std::max<int64_t>(1, std::llround(files.seconds * fps));
  const int frames = static_cast<int>(files.frames);

  const FaceIdentity face = random_identity(spec.identity_seed);
  const std::vector<MouthShape> mouth = mouth_track(speech.phonemes, files.seconds, frames, fps);
  const std::vector<HeadPose> poses = pose_track(spec.motion_seed, mouth, fps);
  std::vector<uint8_t> rgb(static_cast<size_t>(size) * size * 3);

  render_portrait(face, size, rgb.data());
  io::write_png(files.portrait, rgb.data(), size, size);
  io::write_wav(files.audio, mono);
  std::vector<model::MotionFrame> motion;
  for (int f = 0; f < frames; ++f)
    motion.push_back(motion_frame(face, poses[static_cast<size_t>(f)], mouth[static_cast<size_t>(f)]));
  write_file_atomically(dir / "motion.csv", motion_csv(motion));
  // Near-lossless ground truth: the comparison target must not carry codec blur. Without video
  // (a motion-only dataset) the frames are not rendered at all.
  std::optional<io::Mp4Writer> video;
  if (render_video) video.emplace(files.video, io::VideoSpec{size, size, fps, 8, "fast"}, mono);
  std::ostringstream csv;
  csv << "frame,open,width,round,teeth,tongue,box_x0,box_y0,box_x1,box_y1\n";
  for (int f = 0; f < frames; ++f) {
    throw_if_interrupted();
    const MouthShape& m = mouth[static_cast<size_t>(f)];
    if (video) {
      render_frame(face, poses[static_cast<size_t>(f)], m, size, rgb.data());
      video->write_frame(rgb.data());
    }
    const PixelBox box = mouth_box(face, poses[static_cast<size_t>(f)], size);
    csv << f << ',' << m.open << ',' << m.width << ',' << m.round << ',' << m.teeth << ',' << m.tongue << ','
        << box.x0 << ',' << box.y0 << ',' << box.x1 << ',' << box.y1 << '\n';
  }
  if (video) video->finish();
  write_file_atomically(files.mouth, csv.str());
  return files;
}

DatasetSummary make_dataset(const DatasetOptions& o, SpeechSynthesizer& synthesizer) {
  std::vector<std::string> langs = o.languages;
  if (langs.empty())
    for (const Language& l : languages()) langs.push_back(l.code);
  for (const std::string& l : langs) language(l);  // validates
  if (o.size < 32 || o.size > 1024 || o.size % 2) throw Error::input("", "--size must be even, 32..1024");
  if (o.fps < 1 || o.fps > 120) throw Error::input("", "--fps must be 1..120");
  fs::create_directories(o.output / "clips");
  check_output_path(o.output / "train.jsonl");

  struct Job {
    ClipSpec spec;
    ClipFiles files;
    bool skipped = false;
  };
  std::vector<Job> jobs;
  for (int64_t i = 0; i < o.train_clips; ++i) jobs.push_back({clip_spec(o.seed, "train", i, langs), {}});
  for (int64_t i = 0; i < o.test_clips; ++i) jobs.push_back({clip_spec(o.seed, "test", i, langs), {}});

  std::atomic<size_t> next{0};
  std::atomic<int64_t> done{0};
  std::mutex report;
  std::exception_ptr failure;
  auto worker = [&] {
    while (true) {
      const size_t k = next++;
      if (k >= jobs.size()) return;
      {
        std::lock_guard<std::mutex> lock(report);
        if (failure) return;
      }
      Job& job = jobs[k];
      const fs::path dir = o.output / "clips" / job.spec.id;
      try {
        if (fs::exists(dir / "mouth.csv")) {
          // Complete from an earlier run: only its length is needed for the manifest.
          job.skipped = true;
          job.files = {dir / "portrait.png", dir / "speech.wav", dir / "video.mp4", dir / "mouth.csv"};
          job.files.frames = static_cast<int64_t>(read_mouth_track(job.files.mouth).size());
          // The speech's own length, as a fresh run records it (frames / fps is rounded), so a
          // resumed dataset's manifests are identical to an uninterrupted one's.
          job.files.seconds = io::decode_audio(job.files.audio).seconds();
        } else {
          job.files = write_clip(job.spec, synthesizer, o.size, o.fps, dir, o.render_video);
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(report);
        if (!failure) failure = std::current_exception();
        return;
      }
      const int64_t d = ++done;
      std::lock_guard<std::mutex> lock(report);
      if (o.on_clip) o.on_clip(d, static_cast<int64_t>(jobs.size()));
    }
  };
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (failure) std::rethrow_exception(failure);

  DatasetSummary summary;
  std::string train, test;
  for (const Job& job : jobs) {
    (job.spec.split == "train" ? train : test) += clip_line(job.spec, job.files) + "\n";
    summary.clips += 1;
    summary.skipped += job.skipped ? 1 : 0;
    summary.frames += job.files.frames;
    summary.seconds_of_speech += job.files.seconds;
  }
  remove_stale_temporaries(o.output / "train.jsonl");  // what a killed run left
  remove_stale_temporaries(o.output / "test.jsonl");
  write_file_atomically(o.output / "train.jsonl", train);
  write_file_atomically(o.output / "test.jsonl", test);
  return summary;
}

std::vector<DatasetClip> read_dataset_manifest(const fs::path& manifest) {
  std::ifstream in(manifest);
  if (!in) throw Error::input(manifest.string(), "cannot open the dataset manifest");
  const fs::path root = manifest.parent_path();
  std::vector<DatasetClip> clips;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = manifest.string() + ":" + std::to_string(line_no);
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      DatasetClip c;
      c.id = j.at("id").get<std::string>();
      c.split = j.value("split", "");
      c.language = j.value("language", "");
      c.text = j.value("text", "");
      c.portrait = root / j.at("portrait").get<std::string>();
      c.audio = root / j.at("audio").get<std::string>();
      c.video = root / j.at("ground_truth").get<std::string>();
      c.mouth = root / j.value("mouth", std::string());
      c.identity_seed = j.value("identity_seed", uint64_t{0});
      clips.push_back(std::move(c));
    } catch (const nlohmann::json::exception& e) {
      throw Error::input(where, std::string("bad dataset row: ") + e.what());
    }
  }
  if (clips.empty()) throw Error::input(manifest.string(), "the dataset manifest lists no clips");
  return clips;
}

std::vector<MouthRow> read_mouth_track(const fs::path& csv) {
  std::ifstream in(csv);
  if (!in) throw Error::input(csv.string(), "cannot open the mouth track");
  std::string line;
  std::getline(in, line);  // header
  std::vector<MouthRow> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    MouthRow r;
    int frame = 0;
    char c;
    std::istringstream s(line);
    s >> frame >> c >> r.shape.open >> c >> r.shape.width >> c >> r.shape.round >> c >> r.shape.teeth >> c >>
        r.shape.tongue >> c >> r.x0 >> c >> r.y0 >> c >> r.x1 >> c >> r.y1;
    if (!s || frame != static_cast<int>(rows.size()))
      throw Error::input(csv.string(), "bad mouth track row " + std::to_string(rows.size() + 1));
    rows.push_back(r);
  }
  return rows;
}

}  // namespace thg::synth
