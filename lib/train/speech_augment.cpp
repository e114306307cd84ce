#include "train/speech_augment.h"

#include <ATen/ATen.h>

#include <cmath>

namespace thg::train {

namespace {

constexpr double kRate = 16000.0;
constexpr double kPi = 3.141592653589793;

double uniform(at::Generator& g, double lo, double hi) {
  return lo + (hi - lo) * at::rand({1}, g).item<double>();
}

// A second-order Butterworth section (RBJ cookbook), applied in place.
void biquad(std::vector<float>& x, double cutoff, bool high_pass) {
  const double w = 2 * kPi * cutoff / kRate, c = std::cos(w), alpha = std::sin(w) / std::sqrt(2.0);
  const double a0 = 1 + alpha;
  const double b0 = (high_pass ? (1 + c) / 2 : (1 - c) / 2) / a0;
  const double b1 = (high_pass ? -(1 + c) : (1 - c)) / a0;
  const double b2 = b0, a1 = -2 * c / a0, a2 = (1 - alpha) / a0;
  double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (float& v : x) {
    const double y = b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = v;
    y2 = y1;
    y1 = y;
    v = static_cast<float>(y);
  }
}

}  // namespace

std::vector<float> augment_speech(const std::vector<float>& samples, at::Generator& g, const SpeechAugmentOptions& o) {
  if (samples.empty()) return samples;
  at::Tensor x = at::tensor(samples);
  const int64_t n = x.numel();
  if (uniform(g, 0, 1) < o.reverb_probability) {
    // A room: exponentially decaying noise (60 dB down after rt60), the direct sound first.
    const double rt60 = uniform(g, o.rt60_min, o.rt60_max);
    const auto taps = static_cast<int64_t>(rt60 * kRate);
    at::Tensor ir = at::randn({taps}, g) * at::exp(at::arange(taps, at::kFloat) * (-6.9 / (rt60 * kRate)));
    ir = ir * (0.3 / std::sqrt(ir.square().sum().item<double>() + 1e-9));
    ir[0] = 1.0;
    const int64_t size = n + taps;
    const at::Tensor wet = at::fft_irfft(at::fft_rfft(x, size) * at::fft_rfft(ir, size), size).slice(0, 0, n);
    x = wet * (x.abs().max() / (wet.abs().max() + 1e-9));
  }
  std::vector<float> y(x.data_ptr<float>(), x.data_ptr<float>() + n);
  if (uniform(g, 0, 1) < o.telephone_probability) {
    biquad(y, 300, true);
    biquad(y, 3400, false);
    biquad(y, 3400, false);
  }
  x = at::tensor(y);
  if (uniform(g, 0, 1) < o.noise_probability) {
    const double power = x.square().mean().item<double>();
    const double snr = uniform(g, o.snr_db_min, o.snr_db_max);
    const double sigma = std::sqrt(power / std::pow(10.0, snr / 10.0) + 1e-12);
    const double hum = uniform(g, 50, 120);
    at::Tensor noise = at::randn({n}, g) + 0.5 * at::sin(at::arange(n, at::kFloat) * (2 * kPi * hum / kRate));
    x = x + noise * sigma;
  }
  x = x * std::pow(10.0, uniform(g, o.gain_db_min, o.gain_db_max) / 20.0);
  x = x.clamp(-1, 1).contiguous();
  return std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + n);
}

}  // namespace thg::train
