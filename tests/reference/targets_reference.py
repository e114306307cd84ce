#!/usr/bin/env python3
"""Reference forward process for THG's training targets (sched/targets): diffusers' DDPMScheduler
add_noise and get_velocity (the DDPM family's noising and v target) and FlowMatchEulerDiscreteScheduler
scale_noise (flow matching's noising), on fixed tensors and timesteps.

usage: targets_reference.py OUT.safetensors
"""
import sys

import torch
from diffusers import DDPMScheduler, FlowMatchEulerDiscreteScheduler
from safetensors.torch import save_file


def main():
    g = torch.Generator().manual_seed(5)
    clean = torch.randn(4, 3, 6, 6, generator=g)
    noise = torch.randn(4, 3, 6, 6, generator=g)
    t = torch.tensor([0, 17, 500, 999])
    ddpm = DDPMScheduler(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear")
    flow = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
    flow.set_timesteps(1000)
    # Our flow timesteps: sigma = (t + 1) / 1000, i.e. the scheduler's own timestep values t + 1.
    flow_t = (t + 1).to(torch.float32)
    out = {
        "clean": clean, "noise": noise, "t": t,
        "ddpm_noisy": ddpm.add_noise(clean, noise, t),
        "ddpm_velocity": ddpm.get_velocity(clean, noise, t),
        "flow_noisy": flow.scale_noise(clean, flow_t, noise),
        "flow_timesteps": flow.timesteps[[int(1000 - v) for v in flow_t.tolist()]],
    }
    save_file({k: v.contiguous() for k, v in out.items()}, sys.argv[1])


if __name__ == "__main__":
    main()
