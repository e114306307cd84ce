#pragma once
// Video quality figures against a ground truth, for the evaluation and the sampler benchmark.
// Frames are uint8 [N, H, W, 3] (what read_video_frames returns).
#include <ATen/core/Tensor.h>

#include <vector>

namespace thg::eval {

// PSNR in dB of the whole clip (MSE over all frames and pixels, peak 255).
double psnr(const at::Tensor& frames, const at::Tensor& reference);

// Mean SSIM over frames, on luma (BT.601), Gaussian window 11x11 sigma 1.5, K1 0.01, K2 0.03
// (Wang et al. 2004), valid region only.
double ssim(const at::Tensor& frames, const at::Tensor& reference);

// Per-frame mouth opening: the dark area (soft-thresholded luma) inside each frame's mouth box
// (int64 [N, 4]: x0, y0, x1, y1), as a fraction of the box. The mouth interior is the only dark
// thing in that box, so this tracks how far the mouth is open, on any frame, generated or not.
std::vector<double> mouth_opening(const at::Tensor& frames, const at::Tensor& boxes);

// Pearson correlation; 0 when either series is constant.
double pearson(const std::vector<double>& a, const std::vector<double>& b);

// Temporal instability: mean absolute difference between the clip's frame-to-frame changes and the
// reference's (0: moves exactly like the reference; flicker and frozen motion both raise it), in
// 0..255 levels.
double temporal_error(const at::Tensor& frames, const at::Tensor& reference);

// Frame-to-frame change per transition: mean absolute pixel difference between frame i and i + 1
// (N - 1 values), for seam checks.
std::vector<double> frame_changes(const at::Tensor& frames);

}  // namespace thg::eval
