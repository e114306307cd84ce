#pragma once
// How the fused kernels tile a given problem: plain C++ (no CUDA headers), so that lib/ can ask
// whether a shape is supported and the CPU-side tests can check the choices.
#include <algorithm>
#include <cstdint>

namespace thg::kernels {

// Flash attention. Tensor cores take the head dimension in steps of 16; any head dim that is a
// multiple of 8 up to 160 runs, padded to the next compiled width (so 40 costs 48, while the
// diffusion models' 32, 64, 80, 96, 128 and 160 run unpadded). Queries are tiled by 16 per warp,
// keys by key_tile.
struct AttentionPlan {
  bool supported = false;
  int padded_head_dim = 0;  // one of kFusedHeadDims
  int warps = 0;            // query rows per block = 16 * warps: 1 or 4
  int key_tile = 0;         // keys per inner step: 16 or 64 (64 only with 4 warps)
};

constexpr int kFusedHeadDims[] = {32, 48, 64, 80, 96, 128, 160};  // the compiled widths
constexpr int kMaxFusedHeadDim = 160;

inline AttentionPlan plan_attention(int64_t head_dim, int64_t query_len, int64_t key_len) {
  AttentionPlan p;
  if (head_dim < 8 || head_dim > kMaxFusedHeadDim || head_dim % 8 != 0 || query_len < 1 || key_len < 1) return p;
  p.supported = true;
  for (int width : kFusedHeadDims)
    if (width >= head_dim) {
      p.padded_head_dim = width;
      break;
    }
  // Temporal attention has as few queries as frames (8-16): a one-warp block wastes nothing there,
  // while 64-row blocks would be 75-88% padding.
  p.warps = query_len <= 16 ? 1 : 4;
  // Short keys (audio / reference tokens, frames) get 16-key steps: 64-key steps would spend most
  // of the score and P*V work on masked columns.
  // One-warp blocks always step by 16 keys (their queries are few, so the steps are cheap).
  p.key_tile = key_len <= 16 || p.warps == 1 ? 16 : 64;
  return p;
}

// Shared memory one attention block needs, in bytes (row strides skewed against bank conflicts;
// kept in step with the layout in flash_attention.cuh).
constexpr int64_t attention_shared_bytes(const AttentionPlan& p, int element_bytes) {
  const int64_t rows = 16 * p.warps, d = p.padded_head_dim, n = p.key_tile;
  const int64_t q = rows * (d + 8) * element_bytes;
  const int64_t kv = 2 * n * (d + 8) * element_bytes;
  const int64_t s = rows * (n + 4) * 4;
  const int64_t prob = rows * (n + 8) * element_bytes;
  const int64_t o = rows * (d + 4) * 4;
  const int64_t row_state = rows * 3 * 4;
  return q + kv + s + prob + o + row_state;
}

// GroupNorm statistics: each (sample, group) is reduced by `splits` blocks, so that a batch of one
// still fills the GPU (a whole-group-per-block reduction would use 32 of 132 SMs).
inline int plan_group_norm_splits(int64_t samples_times_groups, int64_t group_elements, int sm_count) {
  const int64_t target_blocks = 4LL * std::max(sm_count, 1);
  const int64_t by_occupancy = (target_blocks + samples_times_groups - 1) / std::max<int64_t>(samples_times_groups, 1);
  const int64_t by_work = group_elements / 2048;  // keep >= 2048 elements per block
  return static_cast<int>(std::clamp<int64_t>(std::min(by_occupancy, by_work), 1, 64));
}

}  // namespace thg::kernels
