#include "flash_attention.cuh"

namespace thg::kernels {

bool launch_flash_attention_f16(const AttentionParams& p, const AttentionPlan& plan, int batch_heads, cudaStream_t stream) {
  return detail::launch_planned<__half>(p, plan, batch_heads, stream);
}

}  // namespace thg::kernels
