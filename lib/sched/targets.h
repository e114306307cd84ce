#pragma once
// The forward process, shared by training and sampling: how a clean sample is noised at a training
// timestep, what the model is given as its timestep, and what it must predict there for each
// parameterisation (epsilon, v_prediction, sample, flow). The samplers invert exactly these.
#include <ATen/core/Tensor.h>

#include <string>

#include "sched/schedule.h"

namespace thg::sched {

struct NoisedBatch {
  at::Tensor noisy;           // the model's input
  at::Tensor target;          // what the model must output
  at::Tensor model_timestep;  // the timestep value the model is given, float [B]
};

// t: integer training timesteps [B] in [0, num_train_timesteps); clean and noise [B, ...].
//  DDPM family: noisy = sqrt(ac_t) x0 + sqrt(1 - ac_t) eps (diffusers' add_noise), the model sees t;
//    targets: epsilon eps; v_prediction sqrt(ac_t) eps - sqrt(1 - ac_t) x0 (get_velocity); sample x0.
//  flow: sigma = (t + 1) / N, noisy = (1 - sigma) x0 + sigma eps (FlowMatchEulerDiscreteScheduler's
//    scale_noise at shift 1), the model sees sigma N, target eps - x0 (flow-euler's velocity).
NoisedBatch noise_for_training(const ScheduleConfig& config, const at::Tensor& clean, const at::Tensor& noise,
                               const at::Tensor& t);

// Refuses, with one line naming the sampler and the prediction type, a model whose training target
// its default sampler cannot invert (e.g. prediction_type flow with the ddim sampler).
void check_sampler_inverts(const ScheduleConfig& config, const std::string& sampler);

}  // namespace thg::sched
