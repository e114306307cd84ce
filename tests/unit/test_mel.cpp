// Log-mel features and per-frame windows.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "audio/mel.h"
#include "io/safetensors.h"
#include "test_util.h"

namespace thg {
namespace {

std::vector<float> tone(double hz, int samples, int rate = 16000) {
  std::vector<float> x(samples);
  for (int i = 0; i < samples; ++i) x[i] = 0.5f * std::sin(2 * M_PI * hz * i / rate);
  return x;
}

TEST(Mel, ShapeAndTonePeak) {
  audio::MelConfig c;
  at::Tensor mel = audio::log_mel(tone(1000, 16000), c);
  ASSERT_EQ(mel.sizes(), (std::vector<int64_t>{80, 101}));
  // The loudest band is the one whose filter peaks nearest 1 kHz.
  at::Tensor fb = audio::mel_filterbank(c);
  const int64_t bin_1k = std::lround(1000.0 * c.n_fft / c.sample_rate);
  const int64_t expected = fb.select(1, bin_1k).argmax().item<int64_t>();
  EXPECT_EQ(mel.select(1, 50).argmax().item<int64_t>(), expected);
  // Dynamic range is clamped to 8 decades, i.e. 2 after the /4 scaling.
  EXPECT_NEAR((mel.max() - mel.min()).item<float>(), 2.0f, 1e-4f);
}

TEST(Mel, FilterbankCoversTheSpectrum) {
  at::Tensor fb = audio::mel_filterbank(audio::MelConfig{});
  EXPECT_EQ(fb.sizes(), (std::vector<int64_t>{80, 201}));
  EXPECT_TRUE((fb.sum(1) > 0).all().item<bool>()) << "every band must see some bins";
}

TEST(Mel, WindowsFollowTheFrames) {
  audio::MelConfig c;
  // Silence then a tone starting at 1.0 s: frames before ~1 s see silence at their centre.
  std::vector<float> x(32000, 0.f);
  auto t = tone(500, 16000);
  std::copy(t.begin(), t.end(), x.begin() + 16000);
  at::Tensor mel = audio::log_mel(x, c);
  const int64_t width = 12;
  at::Tensor w = audio::frame_windows(mel, 50, 25.0, width, c);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{50, 80, width}));
  auto centre_energy = [&](int64_t f) { return w[f].select(1, width / 2).max().item<float>(); };
  EXPECT_LT(centre_energy(10), centre_energy(40) - 0.3f);
  EXPECT_EQ(audio::columns_per_frame(25.0, c), 4);
  EXPECT_EQ(audio::columns_per_frame(30.0, c), 4);
  // Per-chunk windows (what generation uses) are exactly the slices of the whole clip's windows,
  // including chunks running past the end of the audio.
  const double silence = mel.min().item<double>();
  for (int64_t first : {0, 7, 33, 45}) {
    at::Tensor part = audio::frame_windows_at(mel, first, 12, 25.0, width, c, silence);
    at::Tensor whole = audio::frame_windows(mel, first + 12, 25.0, width, c).slice(0, first);
    EXPECT_TRUE(part.equal(whole)) << first;
  }
}

// Lip-sync needs each video frame to see the speech of its own moment. A tone starts at `onset`
// seconds after silence; the first frame whose window has the tone at its centre (the columns of
// the frame's own time) must be the frame that contains the onset, give or take one, at the video
// rates users pick. A window shifted by half a second (12 frames at 25 fps) fails here.
TEST(Mel, FrameWindowsAreAlignedWithTheAudioToOneFrame) {
  audio::MelConfig c;
  const int64_t width = 20;  // the default model's window: +-2 frames of 4 columns at 25 fps
  for (double fps : {25.0, 30.0}) {
    for (double onset : {0.37, 1.0, 1.53, 2.011}) {
      std::vector<float> x(48000, 0.f);  // 3 s
      const auto start = static_cast<size_t>(onset * c.sample_rate);
      auto t = tone(700, static_cast<int>(x.size() - start));
      std::copy(t.begin(), t.end(), x.begin() + static_cast<long>(start));
      at::Tensor mel = audio::log_mel(x, c);
      const auto frames = static_cast<int64_t>(3.0 * fps);
      at::Tensor w = audio::frame_windows(mel, frames, fps, width, c);
      // Energy at the window's centre column, against the levels of silence and of the tone.
      at::Tensor centre = std::get<0>(w.select(2, width / 2).max(1));  // [frames]
      const float silent = centre[0].item<float>(), loud = centre[frames - 1].item<float>();
      ASSERT_GT(loud - silent, 0.5f) << "the tone must stand out from the silence";
      int64_t first_seeing = -1;
      for (int64_t f = 0; f < frames && first_seeing < 0; ++f)
        if (centre[f].item<float>() > silent + 0.5f * (loud - silent)) first_seeing = f;
      const auto onset_frame = static_cast<int64_t>(std::floor(onset * fps));
      EXPECT_LE(std::abs(first_seeing - onset_frame), 1)
          << "tone at " << onset << " s, " << fps << " fps: frame " << onset_frame << " contains the onset but frame "
          << first_seeing << " is the first whose window has it at its centre";
    }
  }
}

// The filterbank and the whole feature pipeline against torchaudio (Slaney scale and norm, Hann
// window, centred frames, reflection padding): an implementation no one here wrote.
TEST(Mel, MatchesTorchaudio) {
  const auto path = test::reference_data("mel.safetensors");
  if (path.empty()) GTEST_SKIP() << "no reference Python (torch + torchaudio) configured for this build";
  io::SafetensorsFile file = io::SafetensorsFile::open(path);
  audio::MelConfig c;
  const at::Tensor fb = audio::mel_filterbank(c), fb_ref = file.load("filterbank");
  ASSERT_EQ(fb.sizes(), fb_ref.sizes());
  // Float32 filter weights computed in double on both sides: agreement to float rounding.
  EXPECT_LT(test::max_relative_error(fb, fb_ref), 1e-5);

  const at::Tensor signal = file.load("signal").contiguous();
  const std::vector<float> samples(signal.data_ptr<float>(), signal.data_ptr<float>() + signal.numel());
  const at::Tensor mel = audio::log_mel(samples, c), mel_ref = file.load("log_mel");
  ASSERT_EQ(mel.sizes(), mel_ref.sizes());
  // THG's STFT runs in float32 (the reference in float64); log10 of power compresses the
  // difference: 1e-3 in these units is 0.04 dB.
  const double worst = (mel - mel_ref).abs().max().item<double>();
  std::printf("log-mel vs torchaudio: max abs difference %.2e\n", worst);
  EXPECT_LT(worst, 1e-3);
}

}  // namespace
}  // namespace thg
