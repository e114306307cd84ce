// Audio decoding through FFmpeg: every promised container/codec, rate and channel count decodes to
// the right signal (a 440 Hz sine of amplitude 1/8, 0.5 s) and resamples to 16 kHz mono.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cmath>

#include "core/error.h"
#include "io/audio.h"
#include "io/mp4_writer.h"
#include "test_util.h"

namespace thg {
namespace {

// Amplitude of the `hz` component of mono `x` (a single-bin DFT), over the middle of the clip.
double tone_amplitude(const std::vector<float>& x, int rate, double hz) {
  const size_t from = x.size() / 5, to = x.size() * 4 / 5;
  double re = 0, im = 0;
  for (size_t i = from; i < to; ++i) {
    const double phase = 2 * M_PI * hz * static_cast<double>(i) / rate;
    re += x[i] * std::cos(phase);
    im += x[i] * std::sin(phase);
  }
  return 2 * std::sqrt(re * re + im * im) / static_cast<double>(to - from);
}

struct Case {
  const char* file;
  int rate;
  int channels;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.file; }

class AudioFormats : public ::testing::TestWithParam<Case> {};

TEST_P(AudioFormats, DecodesTheSine) {
  const Case c = GetParam();
  io::AudioBuffer a = io::decode_audio(test::data(std::string("media/") + c.file));
  EXPECT_EQ(a.sample_rate, c.rate);
  EXPECT_EQ(a.channels, c.channels);
  // Codec priming/padding may add or remove a few ms.
  EXPECT_NEAR(a.seconds(), 0.5, 0.05) << c.file;

  io::AudioBuffer mono = io::resample(a, 16000, 1);
  EXPECT_EQ(mono.sample_rate, 16000);
  EXPECT_EQ(mono.channels, 1);
  EXPECT_NEAR(mono.seconds(), a.seconds(), 0.01);
  const double at440 = tone_amplitude(mono.samples, 16000, 440);
  const double at1000 = tone_amplitude(mono.samples, 16000, 1000);
  EXPECT_NEAR(at440, 0.125, 0.02) << c.file;  // lavfi's sine has amplitude 1/8
  EXPECT_LT(at1000, 0.01) << c.file;
}

INSTANTIATE_TEST_SUITE_P(AllFormats, AudioFormats,
                         ::testing::Values(Case{"s16_16k_mono.wav", 16000, 1}, Case{"u8_8k_mono.wav", 8000, 1},
                                           Case{"f32_48k_stereo.wav", 48000, 2}, Case{"audio.mp3", 44100, 2},
                                           Case{"audio.flac", 22050, 1}, Case{"audio.ogg", 44100, 2},
                                           Case{"audio.opus", 48000, 1}, Case{"audio.m4a", 44100, 2},
                                           Case{"video_with_audio.mp4", 48000, 1}),
                         [](const auto& info) {
                           std::string n = info.param.file;
                           for (auto& ch : n)
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

TEST(Audio, ResampleUpKeepsTheTone) {
  io::AudioBuffer a = io::decode_audio(test::data("media/u8_8k_mono.wav"));
  io::AudioBuffer b = io::resample(a, 48000, 1);
  EXPECT_NEAR(b.seconds(), 0.5, 0.01);
  EXPECT_NEAR(tone_amplitude(b.samples, 48000, 440), 0.125, 0.02);
  // Mono to stereo: swresample places a mono source at the centre, -3 dB on each side.
  io::AudioBuffer c = io::resample(a, 48000, 2);
  ASSERT_EQ(c.channels, 2);
  std::vector<float> left(c.frames());
  for (int64_t i = 0; i < c.frames(); ++i) left[i] = c.samples[i * 2];
  EXPECT_NEAR(tone_amplitude(left, 48000, 440), 0.125 / std::sqrt(2.0), 0.02);
}

void expect_bad_audio(const std::filesystem::path& path, const std::string& needle, io::AudioLimits limits = {}) {
  test::expect_input_error([&] { io::decode_audio(path, limits); }, path.string(), needle);
}

TEST(Audio, RejectsBadInputs) {
  test::ScratchDir dir;
  expect_bad_audio(dir / "missing.wav", "file not found");
  test::write_file(dir / "empty.wav", "");
  expect_bad_audio(dir / "empty.wav", "empty");
  test::write_file(dir / "noise.mp3", std::string(4000, '\x5a'));
  expect_bad_audio(dir / "noise.mp3", "not a readable media file");
  expect_bad_audio(test::data("media/video_no_audio.mp4"), "has no audio stream");
  expect_bad_audio(test::data("media/rgb8.png"), "has no audio stream");
  expect_bad_audio(test::data("media/s16_16k_mono.wav"), "limit", io::AudioLimits{0.1});
}

TEST(Audio, HeaderSizeBombIsRefusedWithoutAllocatingIt) {
  // Found by fuzz/fuzz_audio: a 4 KB WAV whose LIST chunk claims ~1.6 GB. FFmpeg would allocate it;
  // THG caps FFmpeg's allocations, so opening it fails cleanly instead. (Peak RSS is a meaningful
  // check under ASan, which touches what it allocates; scripts/sanitize.sh runs this test.)
  const auto path = test::source_root() / "fuzz/corpus/audio/regression-huge-list-chunk.wav";
  struct rusage before {};
  getrusage(RUSAGE_SELF, &before);
  expect_bad_audio(path, "not a readable media file");
  struct rusage after {};
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 200 * 1024) << "peak RSS grew by more than 200 MB";
}

TEST(Audio, RejectsTruncatedFiles) {
  // A fast-start MP4 cut in half: its index promises 2 s of audio, the data holds about one.
  // (A cut WAV cannot be told from a short one: FFmpeg sizes it by the file.)
  test::ScratchDir dir;
  io::AudioBuffer sine;
  sine.sample_rate = 16000;
  sine.channels = 1;
  for (int i = 0; i < 32000; ++i) sine.samples.push_back(0.2f * std::sin(2 * M_PI * 300 * i / 16000.0));
  {
    io::Mp4Writer writer(dir / "full.mp4", io::VideoSpec{32, 32, 25, 30}, sine);
    std::vector<uint8_t> rgb(32 * 32 * 3, 128);
    for (int f = 0; f < 50; ++f) writer.write_frame(rgb.data());
    writer.finish();
  }
  const std::string bytes = test::read_file(dir / "full.mp4");
  test::write_file(dir / "cut.mp4", bytes.substr(0, bytes.size() / 2));
  expect_bad_audio(dir / "cut.mp4", "corrupt audio data at ");
}

}  // namespace
}  // namespace thg
