#pragma once
// What a training stage optimises (internal to lib/train): the parameters it trains and the loss
// of one batch drawn from a generator seeded for that step.
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "model/talking_head.h"
#include "train/adamw.h"
#include "train/clip_data.h"
#include "train/recipe.h"

namespace thg::train {

class StageObjective {
 public:
  virtual ~StageObjective() = default;
  // Everything the stage trains: model parameters and objective_params().
  virtual NamedParams params() = 0;
  // Training-only parameters the objective owns (auxiliary heads): trained and checkpointed, never
  // part of the model or its exported file.
  virtual NamedParams objective_params() { return {}; }
  // The batch loss (a scalar with a graph) for one step.
  virtual at::Tensor loss(at::Generator& generator) = 0;
  // Extra figures for the progress line (e.g. an auxiliary loss), averaged since the last call.
  virtual std::string loss_detail() { return {}; }
  // Images (VAE) or frames (UNet) per step, for throughput.
  virtual int64_t items_per_step() const = 0;
  virtual const char* item_name() const = 0;
};

std::unique_ptr<StageObjective> make_vae_objective(model::TalkingHeadModel& model, const StageOptions& stage,
                                                   const std::vector<TrainingClip>& clips);
std::unique_ptr<StageObjective> make_unet_objective(model::TalkingHeadModel& model, const StageOptions& stage,
                                                    std::vector<TrainingClip>& clips);

// Encodes every clip's frames and portrait with the model's (trained) autoencoder, in place.
void encode_clip_latents(const model::TalkingHeadModel& model, std::vector<TrainingClip>& clips);

// The latent standard deviation over (up to) `frames` frames, unscaled: 1 / this is the
// scaling factor that gives the diffusion model unit-variance latents.
double latent_std(const model::TalkingHeadModel& model, const std::vector<TrainingClip>& clips, int64_t frames);

}  // namespace thg::train
