#!/usr/bin/env python3
"""Reference outputs of diffusers' UNet2DConditionModel and AutoencoderKL for THG's parity tests.

For each case: build the diffusers model from a small config, give every parameter random values
(so no zero-initialised layer hides a mistake), run it in float32 on fixed random inputs, and
save one safetensors file holding the weights (diffusers names, prefixed "model."), the inputs and
outputs ("in.*", "out.*"), and the diffusers config.json text in the metadata.

usage: nn_reference.py OUT_DIR
"""
import json
import pathlib
import sys

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import save_file

UNET_CASES = {
    # Two levels, attention only at the top, layers_per_block 2, conv projections.
    "unet_small": dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=(32, 64),
                       down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                       up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
                       layers_per_block=2, cross_attention_dim=24, attention_head_dim=4, norm_num_groups=16),
    # SD1.5's block layout (3 cross-attention levels + 1 plain, 2 layers per block, 8 heads, conv
    # projections) at a small width.
    "unet_sd15_layout": dict(sample_size=16, in_channels=4, out_channels=4,
                             block_out_channels=(32, 64, 64, 64),
                             down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                               "CrossAttnDownBlock2D", "DownBlock2D"),
                             up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                             "CrossAttnUpBlock2D"),
                             layers_per_block=2, cross_attention_dim=48, attention_head_dim=8, norm_num_groups=32),
    # SD2-style: linear projections, per-level head counts, 2 transformer layers, other in/out channels.
    "unet_linear_proj": dict(sample_size=8, in_channels=8, out_channels=4, block_out_channels=(32, 64),
                             down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
                             up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
                             layers_per_block=1, cross_attention_dim=16, attention_head_dim=(2, 4),
                             use_linear_projection=True, transformer_layers_per_block=2, norm_num_groups=32,
                             flip_sin_to_cos=False, freq_shift=1),
}

VAE_CASES = {
    "vae_small": dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 64),
                      down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                      layers_per_block=1, norm_num_groups=32, sample_size=32),
    "vae_three_levels": dict(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(32, 32, 64),
                             down_block_types=("DownEncoderBlock2D",) * 3, up_block_types=("UpDecoderBlock2D",) * 3,
                             layers_per_block=2, norm_num_groups=16, sample_size=32, scaling_factor=0.25),
}


def randomise(model, generator):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1 and name.endswith(".weight") and "norm" in name:
                p.copy_(1 + 0.2 * torch.randn(p.shape, generator=generator))
            else:
                p.copy_(torch.randn(p.shape, generator=generator) / max(1.0, p[0].numel()) ** 0.5)


def save(path, model, tensors, config):
    out = {"model." + k: v.contiguous() for k, v in model.state_dict().items()}
    out.update({k: v.contiguous() for k, v in tensors.items()})
    save_file(out, str(path), metadata={"config": json.dumps(dict(config))})


def main():
    out_dir = pathlib.Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1234)
    for name, cfg in UNET_CASES.items():
        model = UNet2DConditionModel(**cfg).eval()
        randomise(model, g)
        s = cfg["sample_size"]
        sample = torch.randn(2, cfg["in_channels"], s, s, generator=g)
        timesteps = torch.tensor([981.0, 17.5])
        context = torch.randn(2, 7, cfg["cross_attention_dim"], generator=g)
        with torch.no_grad():
            result = model(sample, timesteps, encoder_hidden_states=context).sample
        save(out_dir / f"{name}.safetensors", model,
             {"in.sample": sample, "in.timesteps": timesteps, "in.context": context, "out.sample": result},
             model.config)
        model.save_pretrained(out_dir / f"{name}_diffusers")  # a diffusers folder, for `thg convert`
    for name, cfg in VAE_CASES.items():
        model = AutoencoderKL(**cfg).eval()
        randomise(model, g)
        s = cfg["sample_size"]
        images = torch.rand(2, 3, s, s, generator=g) * 2 - 1
        down = 2 ** (len(cfg["block_out_channels"]) - 1)
        latents = torch.randn(2, cfg["latent_channels"], s // down, s // down, generator=g)
        with torch.no_grad():
            moments = model.quant_conv(model.encoder(images))
            mean = model.encode(images).latent_dist.mean
            decoded = model.decode(latents).sample
        save(out_dir / f"{name}.safetensors", model,
             {"in.images": images, "in.latents": latents, "out.moments": moments, "out.mean": mean,
              "out.decoded": decoded}, model.config)
        model.save_pretrained(out_dir / f"{name}_diffusers")


if __name__ == "__main__":
    main()
