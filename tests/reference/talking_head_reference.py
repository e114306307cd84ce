#!/usr/bin/env python3
"""Reference outputs of THG's talking-head model (thg_torch_model.py, written from the spec) for the
C++ parity test. Every weight is randomised, so every path counts.

usage: talking_head_reference.py OUT_FILE
Writes a THG model file (tensors + thg.config) plus inputs "in.*" and outputs "out.*".
"""
import json
import sys

import torch
from safetensors.torch import save_file

from thg_torch_model import TalkingHead, audio_window

CONFIG = {
    "name": "reference",
    "image_size": 32,
    "vae": {"in_channels": 3, "out_channels": 3, "latent_channels": 4, "block_out_channels": [32, 32],
            "layers_per_block": 1, "norm_num_groups": 32, "scaling_factor": 0.5},
    "unet": {"in_channels": 8, "out_channels": 4, "block_out_channels": [32, 64],
             "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
             "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1,
             "norm_num_groups": 32, "norm_eps": 1e-5, "cross_attention_dim": 16, "attention_head_dim": [2, 4],
             "transformer_layers_per_block": 1, "use_linear_projection": True, "flip_sin_to_cos": True,
             "freq_shift": 0, "audio_cross_attention_dim": 24, "temporal_attention_levels": [1],
             "temporal_max_frames": 8},
    "audio": {"sample_rate": 16000, "n_fft": 400, "hop_length": 160, "n_mels": 20, "f_min": 0.0, "f_max": 8000.0,
              "context_frames": 1, "dim": 24, "layers": 2, "heads": 3},
    "reference": {"dim": 16, "patch_size": 2},
    "scheduler": {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012,
                  "beta_schedule": "scaled_linear", "prediction_type": "epsilon", "timestep_spacing": "leading",
                  "steps_offset": 1, "set_alpha_to_one": False, "clip_sample": False, "clip_sample_range": 1.0},
    "generation": {"sampler": "ddim", "steps": 2, "chunk_frames": 4, "fps": 25},
}


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(99)
    model = TalkingHead(CONFIG)
    model.randomise(g)
    tensors = model.state_dict()
    with torch.no_grad():
        frames, groups = 4, 2
        b = frames * groups
        image = torch.rand(1, 3, 32, 32, generator=g)
        ref = model.encode_images(image)
        ref_tokens = model.reference_encoder(ref)
        windows = torch.randn(b, CONFIG["audio"]["n_mels"], audio_window(CONFIG), generator=g)
        audio_tokens = model.audio_encoder(windows)
        noisy = torch.randn(b, 4, 16, 16, generator=g)  # latent size = 32 / 2
        t = torch.linspace(900, 50, b)
        out = model.denoise(noisy, t, ref, ref_tokens, audio_tokens, frames)
        decoded = model.decode_latents(noisy)
    tensors.update({"in.image": image, "in.windows": windows, "in.noisy": noisy, "in.timesteps": t,
                    "out.reference": ref, "out.reference_tokens": ref_tokens, "out.audio_tokens": audio_tokens,
                    "out.denoised": out, "out.decoded": decoded})
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, sys.argv[1], metadata={"thg.format": "thg-model-1", "thg.config": json.dumps(CONFIG)})


if __name__ == "__main__":
    main()
