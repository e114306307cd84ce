#!/usr/bin/env python3
"""PyTorch reference of THG's talking-head model, written from the spec (docs/ARCHITECTURE.md),
for the parity test of the C++ model.

The base networks are diffusers' (UNet2DConditionModel, AutoencoderKL, Attention, FeedForward);
THG's additions are implemented here independently of the C++ code:
  - reference encoder: Conv2d(latent, dim, p, stride p) -> tokens + fixed 2D sin-cos positions
    (rows in the first half of the channels, columns in the second) -> LayerNorm;
  - audio encoder: Linear(n_mels, dim) on each mel column + learned positions -> pre-norm
    transformer layers (self-attention, GEGLU feed-forward) -> LayerNorm;
  - in every UNet transformer block, after the reference cross-attention (attn2):
    audio cross-attention  h += audio_attn(audio_norm(h), audio_tokens),
    temporal attention (chosen levels) h += attn(norm(h_frames + pos[:F])) over the F frames of
    each group at every spatial position; then the feed-forward;
  - UNet input = cat(noisy latent, reference latent); reference tokens are attn2's context.
Every weight is randomised (the zero-initialised output projections too, so every path counts).

usage: talking_head_reference.py OUT_FILE
Writes a THG model file (tensors + thg.config) plus inputs "in.*" and outputs "out.*".
"""
import json
import math
import sys

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from safetensors.torch import save_file
from torch import nn

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
AUDIO_WINDOW = (2 * CONFIG["audio"]["context_frames"] + 1) * 4  # 4 mel columns per frame at 25 fps


def sincos_2d(rows, cols, dim):
    quarter = dim // 4
    omega = 10000.0 ** (-torch.arange(quarter, dtype=torch.float32) / quarter)
    r = torch.arange(rows, dtype=torch.float32).repeat_interleave(cols)
    c = torch.arange(cols, dtype=torch.float32).repeat(rows)
    enc = lambda p: torch.cat([torch.sin(p[:, None] * omega), torch.cos(p[:, None] * omega)], 1)
    return torch.cat([enc(r), enc(c)], 1)


class ReferenceEncoder(nn.Module):
    def __init__(self, latent_channels, dim, patch):
        super().__init__()
        self.proj = nn.Conv2d(latent_channels, dim, patch, stride=patch)
        self.norm_out = nn.LayerNorm(dim)

    def forward(self, latents):
        h = self.proj(latents)
        b, d, rows, cols = h.shape
        h = h.flatten(2).transpose(1, 2) + sincos_2d(rows, cols, d)[None]
        return self.norm_out(h)


class AudioLayer(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(query_dim=dim, heads=heads, dim_head=dim // heads, bias=False)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim, activation_fn="geglu")

    def forward(self, x):
        h = self.attn(self.norm1(x)) + x
        return self.ff(self.norm2(h)) + h


class AudioEncoder(nn.Module):
    def __init__(self, n_mels, dim, layers, heads, window):
        super().__init__()
        self.proj_in = nn.Linear(n_mels, dim)
        self.pos_embed = nn.Parameter(torch.zeros(window, dim))
        self.layers = nn.ModuleList([AudioLayer(dim, heads) for _ in range(layers)])
        self.norm_out = nn.LayerNorm(dim)

    def forward(self, windows):
        h = self.proj_in(windows.transpose(1, 2)) + self.pos_embed[None]
        for layer in self.layers:
            h = layer(h)
        return self.norm_out(h)


class Temporal(nn.Module):
    def __init__(self, dim, heads, dim_head, max_frames):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attn = Attention(query_dim=dim, heads=heads, dim_head=dim_head, bias=False)
        self.pos_embed = nn.Parameter(torch.zeros(max_frames, dim))

    def forward(self, x, frames):
        b, l, c = x.shape
        g = b // frames
        h = x.reshape(g, frames, l, c).permute(0, 2, 1, 3).reshape(g * l, frames, c)
        h = self.attn(self.norm(h + self.pos_embed[:frames][None]))
        return h.reshape(g, l, frames, c).permute(0, 2, 1, 3).reshape(b, l, c)


def extend_block(block, level, cfg):
    """Adds THG's modules to a diffusers BasicTransformerBlock and replaces its forward."""
    dim = block.norm1.normalized_shape[0]
    heads = block.attn1.heads
    dim_head = dim // heads
    block.audio_norm = nn.LayerNorm(dim)
    block.audio_attn = Attention(query_dim=dim, cross_attention_dim=cfg["audio_cross_attention_dim"], heads=heads,
                                 dim_head=dim_head, bias=False)
    if level in cfg["temporal_attention_levels"]:
        block.temporal = Temporal(dim, heads, dim_head, cfg["temporal_max_frames"])

    def forward(hidden_states, encoder_hidden_states=None, **_):
        h = block.attn1(block.norm1(hidden_states)) + hidden_states
        h = block.attn2(block.norm2(h), encoder_hidden_states=encoder_hidden_states) + h
        h = block.audio_attn(block.audio_norm(h), encoder_hidden_states=block.thg_audio) + h
        if hasattr(block, "temporal"):
            h = block.temporal(h, block.thg_frames) + h
        return block.ff(block.norm3(h)) + h

    block.forward = forward


def transformer_blocks_by_level(unet):
    n = len(unet.down_blocks)
    for i, down in enumerate(unet.down_blocks):
        for t in getattr(down, "attentions", []):
            yield from ((b, i) for b in t.transformer_blocks)
    for t in unet.mid_block.attentions:
        yield from ((b, n - 1) for b in t.transformer_blocks)
    for i, up in enumerate(unet.up_blocks):
        for t in getattr(up, "attentions", []):
            yield from ((b, n - 1 - i) for b in t.transformer_blocks)


def main():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(99)
    ucfg = CONFIG["unet"]
    vae = AutoencoderKL(**{k: v for k, v in CONFIG["vae"].items()},
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2).eval()
    unet = UNet2DConditionModel(
        sample_size=8, **{k: v for k, v in ucfg.items()
                          if k not in ("audio_cross_attention_dim", "temporal_attention_levels", "temporal_max_frames")}
    ).eval()
    blocks = list(transformer_blocks_by_level(unet))
    for block, level in blocks:
        extend_block(block, level, ucfg)
    audio = AudioEncoder(CONFIG["audio"]["n_mels"], CONFIG["audio"]["dim"], CONFIG["audio"]["layers"],
                         CONFIG["audio"]["heads"], AUDIO_WINDOW).eval()
    reference = ReferenceEncoder(4, CONFIG["reference"]["dim"], CONFIG["reference"]["patch_size"]).eval()
    parts = {"vae": vae, "unet": unet, "audio_encoder": audio, "reference_encoder": reference}

    tensors = {}
    with torch.no_grad():
        for prefix, module in parts.items():
            for name, p in module.named_parameters():
                if p.dim() == 1 and name.endswith(".weight") and "norm" in name:
                    p.copy_(1 + 0.2 * torch.randn(p.shape, generator=g))
                else:
                    p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(max(1, p[0].numel())))
            tensors.update({f"{prefix}.{k}": v.contiguous().clone() for k, v in module.state_dict().items()})

        frames, groups = 4, 2
        b = frames * groups
        sf = CONFIG["vae"]["scaling_factor"]
        image = torch.rand(1, 3, 32, 32, generator=g)
        ref = vae.encode(image * 2 - 1).latent_dist.mean * sf
        ref_tokens = reference(ref)
        windows = torch.randn(b, CONFIG["audio"]["n_mels"], AUDIO_WINDOW, generator=g)
        audio_tokens = audio(windows)
        noisy = torch.randn(b, 4, 16, 16, generator=g)  # latent size = 32 / 2
        t = torch.linspace(900, 50, b)
        for block, _ in blocks:
            block.thg_audio = audio_tokens
            block.thg_frames = frames
        out = unet(torch.cat([noisy, ref.expand(b, -1, -1, -1)], 1), t,
                   encoder_hidden_states=ref_tokens.expand(b, -1, -1)).sample
        decoded = (vae.decode(noisy / sf).sample + 1) / 2

    tensors.update({"in.image": image, "in.windows": windows, "in.noisy": noisy, "in.timesteps": t,
                    "out.reference": ref, "out.reference_tokens": ref_tokens, "out.audio_tokens": audio_tokens,
                    "out.denoised": out, "out.decoded": decoded})
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, sys.argv[1], metadata={"thg.format": "thg-model-1", "thg.config": json.dumps(CONFIG)})


if __name__ == "__main__":
    main()
