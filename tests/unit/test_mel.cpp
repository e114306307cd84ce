// Log-mel features and per-frame windows.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "audio/mel.h"

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

}  // namespace
}  // namespace thg
