#!/usr/bin/env python3
"""Python-eager baseline for benchmarks/unet_forward.py: times one denoising step (UNet forward
over a chunk of frames) of a THG model file with the PyTorch reference implementation
(tests/reference/thg_torch_model.py) on the same weights. Prints JSON like `thg bench unet --json`.

usage: unet_forward_torch.py MODEL.safetensors --frames F --warmup W --repeats R [--device cuda --dtype float16]
"""
import argparse
import json
import pathlib
import resource
import statistics
import sys
import time

import torch
import yaml
from safetensors import safe_open

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "reference"))
from thg_torch_model import TalkingHead, audio_window  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    a = p.parse_args()
    device, dtype = torch.device(a.device), getattr(torch, a.dtype)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize(device)
    with safe_open(a.model, "pt") as f:
        config = yaml.safe_load(f.metadata()["thg.config"])
        weights = {k: f.get_tensor(k) for k in f.keys()}
    model = TalkingHead(config)
    for prefix, module in model.parts.items():
        module.load_state_dict({k[len(prefix) + 1:]: v for k, v in weights.items() if k.startswith(prefix + ".")},
                               strict=True)
    del weights
    for module in model.parts.values():
        module.to(device=device, dtype=dtype)
    g = torch.Generator().manual_seed(0)
    size = config["image_size"]
    lat = size // 2 ** (len(config["vae"]["block_out_channels"]) - 1)
    c = config["vae"]["latent_channels"]
    seconds = []
    with torch.inference_mode():
        def on_device(t):
            return t.to(device=device, dtype=dtype)
        reference = on_device(torch.randn(1, c, lat, lat, generator=g))
        ref_tokens = model.reference_encoder(reference)
        mel = on_device(torch.randn(a.frames, config["audio"]["n_mels"], audio_window(config), generator=g))
        audio = model.audio_encoder(mel)
        noisy = on_device(torch.randn(a.frames, c, lat, lat, generator=g))
        t = on_device(torch.full((a.frames,), 500.0))
        for i in range(a.warmup + a.repeats):
            synchronize()
            start = time.perf_counter()
            model.denoise(noisy, t, reference, ref_tokens, audio, a.frames)
            synchronize()
            if i >= a.warmup:
                seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(json.dumps({"implementation": "python-eager (diffusers + torch)", "torch": torch.__version__, "device": a.device, "dtype": a.dtype,
                      "threads": torch.get_num_threads(), "size": size, "frames": a.frames, "seconds": seconds,
                      "median_seconds": median, "per_frame_seconds": median / a.frames,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
