"""THG's talking-head model in PyTorch, written from the spec (docs/ARCHITECTURE.md): diffusers'
UNet2DConditionModel and AutoencoderKL for the base networks, THG's additions implemented here
independently of the C++ code. Used by the parity test (talking_head_reference.py) and the
Python-eager baseline of benchmarks/unet_forward.py.

  - reference encoder: Conv2d(latent, dim, p, stride p) -> tokens + fixed 2D sin-cos positions
    (rows in the first half of the channels, columns in the second) -> LayerNorm;
  - audio encoder: Linear(n_mels, dim) on each mel column + learned positions -> pre-norm
    transformer layers (self-attention, GEGLU feed-forward) -> LayerNorm;
  - in every UNet transformer block, after the reference cross-attention (attn2):
    audio cross-attention  h += audio_attn(audio_norm(h), audio_tokens),
    temporal attention (chosen levels) h += attn(norm(h_frames + pos[:F])) over the F frames of
    each group at every spatial position; then the feed-forward;
  - UNet input = cat(noisy latent, reference latent); reference tokens are attn2's context.
"""
import math

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from diffusers.models.attention import FeedForward
from diffusers.models.attention_processor import Attention
from torch import nn

UNET_EXTENSION_FIELDS = ("audio_cross_attention_dim", "temporal_attention_levels", "temporal_max_frames")


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


def audio_window(config):
    """Mel columns per frame window: (2 * context + 1) * ceil(100 columns/s / fps)."""
    a = config["audio"]
    columns_per_second = a.get("sample_rate", 16000) / a.get("hop_length", 160)
    per_frame = math.ceil(columns_per_second / config.get("generation", {}).get("fps", 25) - 1e-9)
    return (2 * a.get("context_frames", 2) + 1) * per_frame


class TalkingHead:
    """The four parts, built from a THG config dict (all fields explicit)."""

    def __init__(self, config):
        self.config = config
        v, u, a, r = config["vae"], config["unet"], config["audio"], config["reference"]
        levels = len(v["block_out_channels"])
        self.vae = AutoencoderKL(**v, down_block_types=["DownEncoderBlock2D"] * levels,
                                 up_block_types=["UpDecoderBlock2D"] * levels).eval()
        unet_args = {k: x for k, x in u.items() if k not in UNET_EXTENSION_FIELDS}
        heads = unet_args.get("attention_head_dim")
        if isinstance(heads, list) and len(heads) == 1:  # THG allows one entry for all levels
            unet_args["attention_head_dim"] = heads[0]
        self.unet = UNet2DConditionModel(**unet_args).eval()
        self.blocks = list(transformer_blocks_by_level(self.unet))
        for block, level in self.blocks:
            extend_block(block, level, u)
        self.audio_encoder = AudioEncoder(a["n_mels"], a["dim"], a["layers"], a["heads"], audio_window(config)).eval()
        self.reference_encoder = ReferenceEncoder(v["latent_channels"], r["dim"], r["patch_size"]).eval()
        self.parts = {"vae": self.vae, "unet": self.unet, "audio_encoder": self.audio_encoder,
                      "reference_encoder": self.reference_encoder}

    def randomise(self, generator):
        """Random values for every weight (the zero-initialised projections too)."""
        with torch.no_grad():
            for module in self.parts.values():
                for name, p in module.named_parameters():
                    if p.dim() == 1 and name.endswith(".weight") and "norm" in name:
                        p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
                    else:
                        p.copy_(torch.randn(p.shape, generator=generator) / math.sqrt(max(1, p[0].numel())))

    def state_dict(self):
        return {f"{prefix}.{k}": v.contiguous().clone() for prefix, m in self.parts.items()
                for k, v in m.state_dict().items()}

    def encode_images(self, images):
        return self.vae.encode(images * 2 - 1).latent_dist.mean * self.config["vae"]["scaling_factor"]

    def decode_latents(self, latents):
        return (self.vae.decode(latents / self.config["vae"]["scaling_factor"]).sample + 1) / 2

    def denoise(self, noisy, timesteps, reference, reference_tokens, audio_tokens, frames):
        b = noisy.shape[0]
        for block, _ in self.blocks:
            block.thg_audio = audio_tokens
            block.thg_frames = frames
        return self.unet(torch.cat([noisy, reference.expand(b, -1, -1, -1)], 1), timesteps,
                         encoder_hidden_states=reference_tokens.expand(b, -1, -1)).sample
