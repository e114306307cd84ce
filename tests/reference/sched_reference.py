#!/usr/bin/env python3
"""Reference trajectories of diffusers' schedulers for THG's sampler parity test.

Every sampler x prediction type it supports x timestep spacing x Karras on/off (where supported)
x steps in {1, 2, 5, 10, 25, 50}, driven by two deterministic analytic "models" (one linear, one
non-linear) from a fixed starting sample. Stochastic samplers draw their noise through
diffusers' randn_tensor, which is replaced here by a recorder, so the C++ side can replay the
exact noise. Saved per case: the timesteps, init_noise_sigma, the noise drawn and every sample.

usage: sched_reference.py OUT.safetensors
"""
import importlib
import json
import math
import sys

import torch
from safetensors.torch import save_file

STEPS = [1, 2, 5, 10, 25, 50]
SPACINGS = ["leading", "trailing", "linspace"]
ALL = ["epsilon", "v_prediction", "sample"]
BASE = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
            steps_offset=1)

# name: (class, module, prediction types, karras supported, extra config)
SAMPLERS = {
    "ddim": ("DDIMScheduler", "scheduling_ddim", ALL, False, dict(clip_sample=False, set_alpha_to_one=False)),
    "ddpm": ("DDPMScheduler", "scheduling_ddpm", ALL, False, dict(clip_sample=False, variance_type="fixed_small")),
    "euler": ("EulerDiscreteScheduler", "scheduling_euler_discrete", ALL, True, {}),
    "euler-ancestral": ("EulerAncestralDiscreteScheduler", "scheduling_euler_ancestral_discrete",
                        ["epsilon", "v_prediction"], False, {}),
    "heun": ("HeunDiscreteScheduler", "scheduling_heun_discrete", ALL, True, {}),
    "dpmpp-2m": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep", ALL, True,
                 dict(algorithm_type="dpmsolver++", solver_order=2)),
    "dpmpp-2m-sde": ("DPMSolverMultistepScheduler", "scheduling_dpmsolver_multistep", ALL, True,
                     dict(algorithm_type="sde-dpmsolver++", solver_order=2)),
    "unipc": ("UniPCMultistepScheduler", "scheduling_unipc_multistep", ALL, True, {}),
    "lcm": ("LCMScheduler", "scheduling_lcm", ALL, False, dict(clip_sample=False, set_alpha_to_one=False)),
}


def model(kind, x, t):
    t = torch.as_tensor(t, dtype=torch.float32)
    if kind == "linear":
        return x * t / (t + 1)
    return torch.tanh(1.3 * x) * (0.5 + 0.5 * torch.cos(t / 250)) + 0.05 * x * torch.sin(t / 100)


class NoiseRecorder:
    def __init__(self, generator):
        self.generator, self.drawn = generator, []

    def __call__(self, shape, generator=None, device=None, dtype=None, layout=None):
        n = torch.randn(shape, generator=self.generator, dtype=torch.float32)
        self.drawn.append(n)
        return n


def run(scheduler, module, kind, steps, start, generator):
    recorder = NoiseRecorder(generator)
    module.randn_tensor = recorder
    scheduler.set_timesteps(steps)
    init_sigma = getattr(scheduler, "init_noise_sigma", 1.0)  # flow matching starts from unit noise
    x = start * init_sigma
    samples = [x]
    for t in scheduler.timesteps:
        scaled = scheduler.scale_model_input(x, t) if hasattr(scheduler, "scale_model_input") else x
        out = model(kind, scaled, t)
        x = scheduler.step(out, t, x, return_dict=False)[0]
        samples.append(x)
    noise = torch.stack(recorder.drawn) if recorder.drawn else torch.zeros((0,) + tuple(start.shape))
    return scheduler.timesteps.to(torch.float64), float(init_sigma), noise, torch.stack(samples)


def main():
    import diffusers.schedulers as schedulers
    g = torch.Generator().manual_seed(7)
    start = torch.randn(2, 3, 4, generator=g)
    tensors, cases = {}, []

    def record(key, case, result):
        timesteps, init_sigma, noise, samples = result
        tensors[f"{key}/timesteps"] = timesteps
        tensors[f"{key}/init_sigma"] = torch.tensor([init_sigma], dtype=torch.float64)
        tensors[f"{key}/noise"] = noise.contiguous()
        tensors[f"{key}/samples"] = samples.contiguous()
        cases.append(dict(case, key=key))

    for name, (cls_name, module_name, predictions, karras_ok, extra) in SAMPLERS.items():
        module = importlib.import_module(f"diffusers.schedulers.{module_name}")
        cls = getattr(module, cls_name)
        for prediction in predictions:
            for spacing in SPACINGS if name != "lcm" else ["leading"]:
                for karras in [False, True] if karras_ok else [False]:
                    for eta in [0.0, 1.0] if name == "ddim" else [0.0]:
                        for steps in STEPS:
                            for kind in ["linear", "nonlinear"]:
                                config = dict(BASE, prediction_type=prediction, timestep_spacing=spacing, **extra)
                                if karras:
                                    config["use_karras_sigmas"] = True
                                scheduler = cls(**config)
                                key = f"{name}|{prediction}|{spacing}|{int(karras)}|{eta}|{steps}|{kind}"
                                if name == "ddim":
                                    scheduler_step = scheduler.step
                                    scheduler.step = lambda *a, **k: scheduler_step(*a, eta=eta, **k)
                                case = dict(sampler=name, prediction_type=prediction, spacing=spacing, karras=karras,
                                            eta=eta, steps=steps, model=kind, shift=1.0)
                                record(key, case, run(scheduler, module, kind, steps, start, g))
    module = importlib.import_module("diffusers.schedulers.scheduling_flow_match_euler_discrete")
    for shift in [1.0, 3.0]:
        for steps in STEPS:
            for kind in ["linear", "nonlinear"]:
                scheduler = module.FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=shift)
                key = f"flow-euler|flow|-|0|0.0|{steps}|{kind}|{shift}"
                case = dict(sampler="flow-euler", prediction_type="flow", spacing="linspace", karras=False, eta=0.0,
                            steps=steps, model=kind, shift=shift)
                record(key, case, run(scheduler, module, kind, steps, start, g))
    save_file(tensors, sys.argv[1], metadata={"cases": json.dumps(cases), "base": json.dumps(BASE)})
    print(f"{len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
