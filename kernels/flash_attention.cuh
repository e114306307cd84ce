#pragma once
// The flash-attention kernel template, instantiated per storage type in flash_attention_f16.cu
// and flash_attention_bf16.cu (two files so that the two halves compile in parallel).
//
// One block computes BM = 16 * WARPS query rows of one (batch, head); each warp owns 16 rows.
// Per step of BN keys: S = Q K^T on tensor cores (WMMA, fp32 accumulators) into shared memory,
// the online-softmax update per row (kernel_math.h, shared with the CPU tests), P = exp2(S - max)
// rounded to the storage type, O = alpha * O + P V on tensor cores. O stays in fp32 in shared
// memory because WMMA fragments do not expose which row an element belongs to, and the
// per-row rescale needs that. Out-of-range rows and columns are zero-filled on load and scores
// of keys past the end are -inf, so any sequence length runs.
#include <cuda_runtime.h>
#include <mma.h>

#include <cstdint>
#include <type_traits>

#include "cuda_types.cuh"
#include "fused_plan.h"
#include "kernel_math.h"

namespace thg::kernels {

struct AttentionParams {
  const void* q;
  const void* k;
  const void* v;
  void* out;
  // Element strides: per batch, per head, per row (the last dimension is contiguous).
  int64_t q_strides[3], k_strides[3], v_strides[3], out_strides[3];
  int heads;
  int query_len, key_len, head_dim;
  float scale_log2;  // log2(e) / sqrt(head_dim)
  bool vectorized;   // every base and row stride 16-byte aligned: 8 elements per load
};

namespace detail {

// Copies `rows_valid` rows of `head_dim` elements into a [ROWS][ld] shared tile, zero-filling the
// rest of the ROWS x D tile.
template <typename T, int D, int ROWS, int THREADS>
__device__ __forceinline__ void load_tile(T* dst, int ld, const T* src, int64_t row_stride, int rows_valid,
                                          int head_dim, bool vectorized) {
  constexpr int kChunks = D / 8;
  for (int idx = threadIdx.x; idx < ROWS * kChunks; idx += THREADS) {
    const int r = idx / kChunks, c = (idx % kChunks) * 8;
    T* d = dst + r * ld + c;
    const T* s = src + r * row_stride + c;
    if (vectorized && r < rows_valid && c + 8 <= head_dim) {
      *reinterpret_cast<uint4*>(d) = *reinterpret_cast<const uint4*>(s);
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) d[e] = (r < rows_valid && c + e < head_dim) ? s[e] : from_float<T>(0.f);
    }
  }
}

template <typename T, int D, int WARPS, int BN>
__global__ void __launch_bounds__(WARPS * 32) flash_attention_kernel(AttentionParams p) {
  using namespace nvcuda;
  constexpr int kThreads = WARPS * 32, BM = 16 * WARPS;
  constexpr int LDQ = D + 8, LDS = BN + 4, LDP = BN + 8, LDO = D + 4;  // skewed against bank conflicts
  // Layout in step with attention_shared_bytes() in fused_plan.h.
  extern __shared__ __align__(128) unsigned char shared_raw[];
  T* q_s = reinterpret_cast<T*>(shared_raw);
  T* k_s = q_s + BM * LDQ;
  T* v_s = k_s + BN * LDQ;
  float* s_s = reinterpret_cast<float*>(v_s + BN * LDQ);
  T* p_s = reinterpret_cast<T*>(s_s + BM * LDS);
  float* o_s = reinterpret_cast<float*>(p_s + BM * LDP);
  float* row_max = o_s + BM * LDO;
  float* row_sum = row_max + BM;
  float* row_alpha = row_sum + BM;

  const int batch = blockIdx.x / p.heads, head = blockIdx.x % p.heads;
  const int q0 = blockIdx.y * BM;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const T* q = static_cast<const T*>(p.q) + batch * p.q_strides[0] + head * p.q_strides[1] + q0 * p.q_strides[2];
  const T* k = static_cast<const T*>(p.k) + batch * p.k_strides[0] + head * p.k_strides[1];
  const T* v = static_cast<const T*>(p.v) + batch * p.v_strides[0] + head * p.v_strides[1];
  T* out = static_cast<T*>(p.out) + batch * p.out_strides[0] + head * p.out_strides[1] + q0 * p.out_strides[2];
  const int q_rows = min(BM, p.query_len - q0);

  load_tile<T, D, BM, kThreads>(q_s, LDQ, q, p.q_strides[2], q_rows, p.head_dim, p.vectorized);
  for (int i = threadIdx.x; i < BM * LDO; i += kThreads) o_s[i] = 0.f;
  for (int i = threadIdx.x; i < BM; i += kThreads) {
    row_max[i] = -INFINITY;
    row_sum[i] = 0.f;
  }
  __syncthreads();
  // This warp's 16 query rows stay in registers for the whole key loop.
  wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> q_frag[D / 16];
#pragma unroll
  for (int kk = 0; kk < D / 16; ++kk) wmma::load_matrix_sync(q_frag[kk], q_s + warp * 16 * LDQ + kk * 16, LDQ);

  for (int n0 = 0; n0 < p.key_len; n0 += BN) {
    const int k_rows = min(BN, p.key_len - n0);
    __syncthreads();  // every warp is done with the previous K and V tiles
    load_tile<T, D, BN, kThreads>(k_s, LDQ, k + n0 * p.k_strides[2], p.k_strides[2], k_rows, p.head_dim, p.vectorized);
    load_tile<T, D, BN, kThreads>(v_s, LDQ, v + n0 * p.v_strides[2], p.v_strides[2], k_rows, p.head_dim, p.vectorized);
    __syncthreads();

    // S = Q K^T: K is stored [key][d], which is K^T in column-major order.
    {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> k_frag;
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
#pragma unroll
      for (int j = 0; j < BN / 16; ++j) {
        wmma::fill_fragment(acc, 0.f);
#pragma unroll
        for (int kk = 0; kk < D / 16; ++kk) {
          wmma::load_matrix_sync(k_frag, k_s + j * 16 * LDQ + kk * 16, LDQ);
          wmma::mma_sync(acc, q_frag[kk], k_frag, acc);
        }
        wmma::store_matrix_sync(s_s + warp * 16 * LDS + j * 16, acc, LDS, wmma::mem_row_major);
      }
    }
    __syncwarp();

    // Online softmax, one row at a time across the warp's lanes.
    for (int r = 0; r < 16; ++r) {
      const int row = warp * 16 + r;
      float* s_row = s_s + row * LDS;
      float tile_max = -INFINITY;
      for (int c = lane; c < BN; c += 32) {
        const float x = c < k_rows ? s_row[c] * p.scale_log2 : -INFINITY;
        s_row[c] = x;
        tile_max = fmaxf(tile_max, x);
      }
      tile_max = warp_max(tile_max);
      SoftmaxRow state{row_max[row], row_sum[row]};
      const float alpha = softmax_rescale(state, tile_max);
      float tile_sum = 0.f;
      for (int c = lane; c < BN; c += 32) {
        const T prob = from_float<T>(exp2f(s_row[c] - state.max));
        tile_sum += to_float(prob);  // sum what P V will use, rounding included
        p_s[row * LDP + c] = prob;
      }
      tile_sum = warp_sum(tile_sum);
      __syncwarp();  // every lane has read row_max before lane 0 overwrites it
      if (lane == 0) {
        row_max[row] = state.max;
        row_sum[row] = state.sum + tile_sum;
        row_alpha[row] = alpha;
      }
    }
    __syncwarp();
    for (int i = lane; i < 16 * D; i += 32) {
      const int row = warp * 16 + i / D;
      o_s[row * LDO + i % D] *= row_alpha[row];
    }
    __syncwarp();

    // O += P V: V is stored [key][d], row-major as the right-hand operand wants.
    {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> p_frag;
      wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> v_frag;
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
#pragma unroll
      for (int j = 0; j < D / 16; ++j) {
        wmma::load_matrix_sync(acc, o_s + warp * 16 * LDO + j * 16, LDO, wmma::mem_row_major);
#pragma unroll
        for (int kk = 0; kk < BN / 16; ++kk) {
          wmma::load_matrix_sync(p_frag, p_s + warp * 16 * LDP + kk * 16, LDP);
          wmma::load_matrix_sync(v_frag, v_s + kk * 16 * LDQ + j * 16, LDQ);
          wmma::mma_sync(acc, p_frag, v_frag, acc);
        }
        wmma::store_matrix_sync(o_s + warp * 16 * LDO + j * 16, acc, LDO, wmma::mem_row_major);
      }
    }
    __syncwarp();
  }

  for (int i = lane; i < 16 * p.head_dim; i += 32) {
    const int row = warp * 16 + i / p.head_dim, col = i % p.head_dim;
    if (row < q_rows) out[row * p.out_strides[2] + col] = from_float<T>(o_s[row * LDO + col] / row_sum[row]);
  }
}

template <typename T, int D, int WARPS, int BN>
void launch_shape(const AttentionParams& p, int batch_heads, cudaStream_t stream) {
  auto kernel = flash_attention_kernel<T, D, WARPS, BN>;
  constexpr int64_t kSharedBytes = attention_shared_bytes(AttentionPlan{true, D, WARPS, BN}, sizeof(T));
  // Above 48 KB a kernel must opt in to dynamic shared memory (per function and device; cheap).
  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kSharedBytes));
  const dim3 grid(static_cast<unsigned>(batch_heads), static_cast<unsigned>((p.query_len + 16 * WARPS - 1) / (16 * WARPS)));
  kernel<<<grid, WARPS * 32, static_cast<size_t>(kSharedBytes), stream>>>(p);
}

// Runs the instantiation that `plan` names; false if none matches (a caller bug, reported there).
template <typename T>
bool launch_planned(const AttentionParams& p, const AttentionPlan& plan, int batch_heads, cudaStream_t stream) {
  bool launched = false;
  auto by_tiling = [&](auto head_dim) {
    constexpr int D = decltype(head_dim)::value;
    if (plan.warps == 4 && plan.key_tile == 64) launch_shape<T, D, 4, 64>(p, batch_heads, stream);
    else if (plan.warps == 4 && plan.key_tile == 16) launch_shape<T, D, 4, 16>(p, batch_heads, stream);
    else if (plan.warps == 1 && plan.key_tile == 16) launch_shape<T, D, 1, 16>(p, batch_heads, stream);
    else return;
    launched = true;
  };
  switch (plan.padded_head_dim) {
    case 32: by_tiling(std::integral_constant<int, 32>{}); break;
    case 48: by_tiling(std::integral_constant<int, 48>{}); break;
    case 64: by_tiling(std::integral_constant<int, 64>{}); break;
    case 80: by_tiling(std::integral_constant<int, 80>{}); break;
    case 96: by_tiling(std::integral_constant<int, 96>{}); break;
    case 128: by_tiling(std::integral_constant<int, 128>{}); break;
    case 160: by_tiling(std::integral_constant<int, 160>{}); break;
    default: break;
  }
  return launched;
}

}  // namespace detail

// One per storage type, each in its own file (flash_attention_{f16,bf16}.cu): run the
// instantiation that `plan` names; false if none matches (a caller bug, reported there).
bool launch_flash_attention_f16(const AttentionParams& p, const AttentionPlan& plan, int batch_heads, cudaStream_t stream);
bool launch_flash_attention_bf16(const AttentionParams& p, const AttentionPlan& plan, int batch_heads, cudaStream_t stream);

}  // namespace thg::kernels
