#include "audio/mel.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace thg::audio {

namespace {
// Slaney mel scale: linear below 1 kHz, logarithmic above.
double hz_to_mel(double hz) {
  constexpr double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return hz < min_log_hz ? hz / f_sp : min_log_mel + std::log(hz / min_log_hz) / logstep;
}
double mel_to_hz(double mel) {
  constexpr double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = std::log(6.4) / 27.0;
  return mel < min_log_mel ? mel * f_sp : min_log_hz * std::exp(logstep * (mel - min_log_mel));
}
}  // namespace

at::Tensor mel_filterbank(const MelConfig& c) {
  const int bins = c.n_fft / 2 + 1;
  std::vector<double> fft_hz(bins), mel_hz(c.n_mels + 2);
  for (int i = 0; i < bins; ++i) fft_hz[i] = static_cast<double>(i) * c.sample_rate / c.n_fft;
  const double lo = hz_to_mel(c.f_min), hi = hz_to_mel(c.f_max);
  for (int i = 0; i < c.n_mels + 2; ++i) mel_hz[i] = mel_to_hz(lo + (hi - lo) * i / (c.n_mels + 1));
  at::Tensor fb = at::zeros({c.n_mels, bins}, at::kFloat);
  auto acc = fb.accessor<float, 2>();
  for (int m = 0; m < c.n_mels; ++m) {
    const double left = mel_hz[m], centre = mel_hz[m + 1], right = mel_hz[m + 2];
    const double norm = 2.0 / (right - left);
    for (int k = 0; k < bins; ++k) {
      const double up = (fft_hz[k] - left) / (centre - left);
      const double down = (right - fft_hz[k]) / (right - centre);
      acc[m][k] = static_cast<float>(std::max(0.0, std::min(up, down)) * norm);
    }
  }
  return fb;
}

at::Tensor log_mel(const std::vector<float>& samples, const MelConfig& c) {
  if (samples.empty()) throw Error::input("", "log_mel: no samples");
  at::Tensor x = at::from_blob(const_cast<float*>(samples.data()), {static_cast<int64_t>(samples.size())}, at::kFloat)
                     .clone();
  at::Tensor window = at::hann_window(c.n_fft, at::kFloat);
  // Centred frames with reflection padding need the signal longer than half a window.
  const int64_t pad = c.n_fft / 2;
  if (x.size(0) <= pad) x = at::constant_pad_nd(x, {0, pad + 1 - x.size(0)});
  at::Tensor spec = at::stft(x, c.n_fft, c.hop_length, c.n_fft, window, /*center=*/true, "reflect",
                             /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
  at::Tensor power = spec.abs().pow(2);  // [bins, T]
  at::Tensor mel = at::matmul(mel_filterbank(c), power);
  at::Tensor logm = at::log10(at::clamp_min(mel, 1e-10));
  logm = at::maximum(logm, logm.max() - 8.0);
  return (logm + 4.0) / 4.0;
}

int64_t columns_per_frame(double fps, const MelConfig& c) {
  const double columns_per_second = static_cast<double>(c.sample_rate) / c.hop_length;
  return static_cast<int64_t>(std::ceil(columns_per_second / fps - 1e-9));
}

at::Tensor frame_windows(const at::Tensor& mel, int64_t frames, double fps, int64_t width, const MelConfig& c) {
  return frame_windows_at(mel, 0, frames, fps, width, c, mel.numel() ? mel.min().item<double>() : 0.0);
}

at::Tensor frame_windows_at(const at::Tensor& mel, int64_t first, int64_t frames, double fps, int64_t width,
                            const MelConfig& c, double silence) {
  if (width < 1 || frames < 0 || first < 0 || !(fps > 0)) throw Error::failure("", "frame_windows: bad arguments");
  const double columns_per_second = static_cast<double>(c.sample_rate) / c.hop_length;
  const int64_t columns = mel.size(1);
  // Each window is filled with silence, then the part of it that lies inside the audio is copied:
  // only the chunk's windows are ever materialised, whatever the audio length.
  at::Tensor out = at::full({frames, mel.size(0), width}, silence, mel.options());
  for (int64_t k = 0; k < frames; ++k) {
    const double centre = (static_cast<double>(first + k) + 0.5) * columns_per_second / fps;
    const int64_t start = std::llround(centre - width / 2.0);
    const int64_t lo = std::max<int64_t>(start, 0), hi = std::min<int64_t>(start + width, columns);
    if (hi > lo) out[k].slice(1, lo - start, hi - start).copy_(mel.slice(1, lo, hi));
  }
  return out;
}

}  // namespace thg::audio
