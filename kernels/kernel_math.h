#pragma once
// The per-tile arithmetic that the fused kernels run, written once for device and host: the CUDA
// kernels call these, and the CPU-side tests (tests/unit/test_kernels.cpp) run the same functions
// in the kernels' blocked order against PyTorch, so the algorithm is checked on machines without
// a GPU. Plain C++ apart from the qualifiers.
#include <cmath>

#if defined(__CUDACC__)
#define THG_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define THG_HOST_DEVICE inline
#endif

namespace thg::kernels {

// Running softmax state of one attention row (flash-attention's online softmax, in base 2:
// scores are pre-multiplied by log2(e) / sqrt(d), so exp2 replaces exp).
struct SoftmaxRow {
  float max = -INFINITY;  // the largest scaled score seen so far
  float sum = 0.f;        // sum of exp2(score - max) over the scores seen so far
};

// Folds one tile's maximum into the row state. Returns the factor by which everything
// accumulated so far (the sum and the output row) must be multiplied: exp2(old_max - new_max),
// 0 for the first tile.
THG_HOST_DEVICE float softmax_rescale(SoftmaxRow& row, float tile_max) {
  const float new_max = fmaxf(row.max, tile_max);
  const float alpha = row.max == -INFINITY ? 0.f : exp2f(row.max - new_max);
  row.max = new_max;
  row.sum *= alpha;
  return alpha;
}

// Parallel variance (Chan et al.): merges the statistics of one more chunk of elements.
struct Moments {
  float count = 0.f;
  float mean = 0.f;
  float m2 = 0.f;  // sum of squared deviations from the mean
};

THG_HOST_DEVICE void merge_moments(Moments& a, const Moments& b) {
  if (b.count == 0.f) return;
  const float n = a.count + b.count;
  const float delta = b.mean - a.mean;
  const float wb = b.count / n;
  a.mean += delta * wb;
  a.m2 += b.m2 + delta * delta * a.count * wb;
  a.count = n;
}

// One element into the running moments (Welford).
THG_HOST_DEVICE void add_sample(Moments& a, float x) {
  a.count += 1.f;
  const float delta = x - a.mean;
  a.mean += delta / a.count;
  a.m2 += delta * (x - a.mean);
}

}  // namespace thg::kernels
