"""What each exported module is traced with and checked on: the example inputs of the trace, and cases at
batch sizes, image sizes, timesteps, clip skips and conditions other than the traced ones, on which the
reloaded graph must compute what the eager module computes."""

from dataclasses import dataclass
from typing import Dict, List, Tuple

import torch
import torch.nn as nn

from checkpoint_parts import Parts, vae_dtype
from unet import guidance_scale_embedding
from vae import VaeDecoder, VaeEncoder

Inputs = Tuple[torch.Tensor, ...]


@dataclass
class ModuleExport:
    file: str
    module: nn.Module
    example: Inputs
    cases: Dict[str, Inputs]
    cast: Tuple[bool, ...]  # which inputs a float16 module casts to float16 (float ones but timesteps and time ids)
    dtype: str
    clip_skip: bool = False  # a text encoder: traced with clip_skip, saved with it optional


def module_exports(parts: Parts, dtype: str) -> List[ModuleExport]:
    g = torch.Generator().manual_seed(0)
    exports = [_text_encoder(f"text_encoder{'_2' if i else ''}.pt", encoder, dtype, g)
               for i, encoder in enumerate(parts.encoders)]
    exports.append(_unet(parts, dtype, g))
    C, f, m = parts.vae_config.latent_channels, parts.vae_config.scale_factor, parts.unet.size_multiple()
    latents = lambda b, h, w: torch.randn(b, C, h, w, generator=g)
    images = lambda b, h, w: torch.rand(b, 3, h, w, generator=g) * 2 - 1
    vae = vae_dtype(parts, dtype)
    exports.append(ModuleExport("vae_decoder.pt", VaeDecoder(parts.vae), (latents(1, m, m),),
                                {"B=2 2m x m": (latents(2, 2 * m, m),)}, (True,), vae))
    exports.append(ModuleExport("vae_encoder.pt", VaeEncoder(parts.vae), (images(1, m * f, m * f),),
                                {"B=2 2M x M": (images(2, 2 * m * f, m * f),)}, (True,), vae))
    return exports


def _text_encoder(file: str, encoder, dtype: str, g: torch.Generator) -> ModuleExport:
    ids = lambda b: torch.randint(0, encoder.config["vocab_size"], (b, encoder.length), generator=g)
    most = encoder.module.max_clip_skip()
    skips = torch.tensor([most, 0, most // 2])
    return ModuleExport(file, encoder.module, (ids(1), torch.zeros(1, dtype=torch.int64)),
                        {"B=3": (ids(3),), f"B=3 clip_skip {skips.tolist()}": (ids(3), skips)},
                        (False, False), dtype, clip_skip=True)


def _unet(parts: Parts, dtype: str, g: torch.Generator) -> ModuleExport:
    """Traced at B = 1, 2m x 2m latents (at m x m the lowest level is 1 x 1, and a GroupNorm of one
    channel per group refuses it); checked at B = 2, 3m x m and B = 1, m x 2m with other timesteps."""
    c, m = parts.unet_config, parts.unet.size_multiple()
    length = parts.encoders[0].length
    width = sum(e.config["hidden_size"] for e in parts.encoders)
    sample = lambda b, h, w: torch.randn(b, c.in_channels, h, w, generator=g)
    context = lambda b: torch.randn(b, length, width, generator=g)
    example = (sample(1, 2 * m, 2 * m), torch.tensor([500.0]), context(1))
    cases = {"B=2 3m x m": (sample(2, 3 * m, m), torch.tensor([999.0, 0.5]), context(2)),
             "B=1 m x 2m": (sample(1, m, 2 * m), torch.tensor([250.25]), context(1))}
    cast = (True, False, True)
    if c.addition_embed_type == "text_time":
        # SDXL's pooled text embeddings and time ids (original size, crop top-left, target size), one per row
        pooled = lambda b: torch.randn(b, parts.encoders[1].config["projection_dim"], generator=g)
        time_ids = lambda *rows: torch.tensor(rows, dtype=torch.float32)
        example += (pooled(1), time_ids([1024, 1024, 0, 0, 1024, 1024]))
        cases["B=2 3m x m"] += (pooled(2), time_ids([768, 1344, 0, 0, 768, 1344], [512, 640, 16, 8, 1024, 1280]))
        cases["B=1 m x 2m"] += (pooled(1), time_ids([96, 160, 32, 0, 128, 128]))
        cast += (True, False)
    if c.time_cond_proj_dim:
        # LCM's guidance embedding of w = guidance_scale - 1, a different w per row
        cond = lambda *w: guidance_scale_embedding(torch.tensor(w), c.time_cond_proj_dim)
        example += (cond(7.5),)
        cases["B=2 3m x m"] += (cond(7.5, 0.0),)
        cases["B=1 m x 2m"] += (cond(3.0),)
        cast += (True,)
    return ModuleExport("unet.pt", parts.unet, example, cases, cast, dtype)
