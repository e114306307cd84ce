#include "eval/metrics.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"

namespace thg::eval {

namespace {

void check_pair(const at::Tensor& a, const at::Tensor& b) {
  if (a.dim() != 4 || a.size(3) != 3 || !a.sizes().equals(b.sizes()))
    throw Error::input("", "frames and reference must both be [N, H, W, 3] of equal size");
}

at::Tensor luma(const at::Tensor& rgb8) {  // [N, H, W, 3] uint8 -> [N, 1, H, W] float 0..1
  at::Tensor f = rgb8.to(at::kFloat).div(255.0);
  at::Tensor y = f.select(3, 0) * 0.299 + f.select(3, 1) * 0.587 + f.select(3, 2) * 0.114;
  return y.unsqueeze(1);
}

at::Tensor gaussian_window(int64_t size, double sigma) {
  at::Tensor x = at::arange(size, at::kFloat) - static_cast<double>(size - 1) / 2.0;
  at::Tensor g = (-(x * x) / (2 * sigma * sigma)).exp();
  g = g / g.sum();
  return (g.unsqueeze(1) * g.unsqueeze(0)).view({1, 1, size, size});
}

}  // namespace

double psnr(const at::Tensor& frames, const at::Tensor& reference) {
  check_pair(frames, reference);
  const double mse = (frames.to(at::kDouble) - reference.to(at::kDouble)).pow(2).mean().item<double>();
  return mse <= 0 ? 100.0 : 10.0 * std::log10(255.0 * 255.0 / mse);
}

double ssim(const at::Tensor& frames, const at::Tensor& reference) {
  check_pair(frames, reference);
  const at::Tensor w = gaussian_window(11, 1.5);
  const at::Tensor x = luma(frames), y = luma(reference);
  auto blur = [&](const at::Tensor& t) { return at::conv2d(t, w); };
  const at::Tensor mx = blur(x), my = blur(y);
  const at::Tensor sxx = blur(x * x) - mx * mx, syy = blur(y * y) - my * my, sxy = blur(x * y) - mx * my;
  constexpr double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const at::Tensor map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
  return map.mean().item<double>();
}

std::vector<double> mouth_opening(const at::Tensor& frames, const at::Tensor& boxes) {
  if (frames.size(0) != boxes.size(0)) throw Error::input("", "one mouth box per frame is needed");
  const at::Tensor y = luma(frames);
  auto b = boxes.accessor<int64_t, 2>();
  std::vector<double> out;
  for (int64_t i = 0; i < frames.size(0); ++i) {
    at::Tensor region = y[i][0].slice(0, b[i][1], b[i][3]).slice(1, b[i][0], b[i][2]);
    if (region.numel() == 0) {
      out.push_back(0);
      continue;
    }
    // Soft threshold: luma 0.08 counts fully, 0.2 not at all (skin and lips are brighter).
    out.push_back(((0.2 - region) / 0.12).clamp(0.0, 1.0).mean().item<double>());
  }
  return out;
}

double pearson(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size() || a.size() < 2) return 0.0;
  double ma = 0, mb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(a.size());
  mb /= static_cast<double>(b.size());
  double sab = 0, saa = 0, sbb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) * (a[i] - ma);
    sbb += (b[i] - mb) * (b[i] - mb);
  }
  if (saa <= 1e-18 || sbb <= 1e-18) return 0.0;
  return sab / std::sqrt(saa * sbb);
}

double temporal_error(const at::Tensor& frames, const at::Tensor& reference) {
  check_pair(frames, reference);
  if (frames.size(0) < 2) return 0.0;
  const at::Tensor a = frames.to(at::kFloat), r = reference.to(at::kFloat);
  const at::Tensor da = a.slice(0, 1) - a.slice(0, 0, -1), dr = r.slice(0, 1) - r.slice(0, 0, -1);
  return (da - dr).abs().mean().item<double>();
}

std::vector<double> frame_changes(const at::Tensor& frames) {
  std::vector<double> out;
  const at::Tensor f = frames.to(at::kFloat);
  for (int64_t i = 0; i + 1 < frames.size(0); ++i) out.push_back((f[i + 1] - f[i]).abs().mean().item<double>());
  return out;
}

}  // namespace thg::eval
