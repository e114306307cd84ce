#pragma once
// The audio encoder: a window of log-mel columns around each video frame -> tokens that the UNet's
// cross-attention reads. One token per mel column (10 ms), with a learned position embedding and a
// few pre-norm transformer layers so each token sees the whole window (coarticulation).
#include "model/config.h"
#include "nn/blocks.h"

namespace thg::model {

class AudioEncoderLayer : public nn::Module {
 public:
  AudioEncoderLayer(int64_t dim, int64_t heads);
  at::Tensor forward(const at::Tensor& x) const;
  nn::LayerNorm norm1, norm2;
  nn::Attention attn;
  nn::FeedForward ff;
};

class AudioEncoder : public nn::Module {
 public:
  // window: mel columns per frame window ((2 * context + 1) * columns_per_frame)
  AudioEncoder(const AudioEncoderConfig& config, int64_t window);
  // windows [N, n_mels, W] -> tokens [N, W, dim]
  at::Tensor forward(const at::Tensor& windows) const;

  nn::Linear proj_in;
  at::Tensor pos_embed;  // [W, dim]
  nn::ModuleList<AudioEncoderLayer> layers;
  nn::LayerNorm norm_out;

 protected:
  void init_own_parameters(at::Generator& g) override;
};

}  // namespace thg::model
