#pragma once
// Training the motion-warp family (model/motion_warp.h) on a thg-synth dataset's speech and exact
// motion tracks (motion.csv; `thg-synth --no-video` makes such a dataset in seconds). One stage,
// `motion:` in the recipe. Resumable: a checkpoint every checkpoint_every steps holds the weights,
// the optimiser and the EMA; each step's batch depends only on (seed, step).
#include "train/trainer.h"

namespace thg::train {

// Returns true when the stage is complete (result written to <out>/motion.safetensors).
bool train_motion(const TrainOptions& options);

}  // namespace thg::train
