"""diffusers' `UNet2DConditionModel` for Stable Diffusion 1.x / 2.x and SDXL, built from its config.json.

Parameter names are diffusers' (down_blocks.N.attentions.M.transformer_blocks.K.attn1.to_q, ...).
Only config.json decides the architecture; every key whose value would need code this file does not
have is refused by name (see RULES).
"""

import math
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from attention import Attention
from checkpoint_weights import CheckpointError
from config_rules import anything, check_config, int_or_list, one_of, positive_int
from resnet_blocks import Downsample2D, ResnetBlock2D, Upsample2D

DOWN_BLOCKS = ("CrossAttnDownBlock2D", "DownBlock2D")
UP_BLOCKS = ("CrossAttnUpBlock2D", "UpBlock2D")


def _list_of(allowed):
    return lambda v: isinstance(v, list) and v and all(x in allowed for x in v)


def _false_or_all_false(v):
    return v is False or (isinstance(v, list) and not any(v))


def _odd_kernel(v):
    return positive_int(v) and v % 2 == 1


def _optional_positive_int(v):
    return v is None or positive_int(v)


RULES = {
    "sample_size": positive_int,
    "in_channels": positive_int,
    "out_channels": positive_int,
    "center_input_sample": one_of(False),
    "flip_sin_to_cos": one_of(True, False),
    "freq_shift": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "down_block_types": _list_of(DOWN_BLOCKS),
    "up_block_types": _list_of(UP_BLOCKS),
    "mid_block_type": one_of("UNetMidBlock2DCrossAttn"),
    "only_cross_attention": _false_or_all_false,
    "mid_block_only_cross_attention": one_of(None, False),
    "block_out_channels": int_or_list,
    "layers_per_block": int_or_list,
    "downsample_padding": lambda v: isinstance(v, int) and v >= 0,
    "mid_block_scale_factor": lambda v: isinstance(v, (int, float)) and v > 0,
    "act_fn": one_of("silu", "swish"),
    "norm_num_groups": positive_int,
    "norm_eps": lambda v: isinstance(v, float) and v > 0,
    "cross_attention_dim": positive_int,
    "transformer_layers_per_block": int_or_list,
    "reverse_transformer_layers_per_block": one_of(None),
    "encoder_hid_dim": one_of(None),
    "encoder_hid_dim_type": one_of(None),
    "attention_head_dim": int_or_list,
    # diffusers (0.25 and later) raises on a non-null value; attention_head_dim carries the heads
    "num_attention_heads": one_of(None),
    "dual_cross_attention": one_of(False),
    "use_linear_projection": one_of(True, False),
    "class_embed_type": one_of(None),
    # SDXL: pooled text embeddings and six micro-conditioning numbers added to the time embedding
    "addition_embed_type": one_of(None, "text_time"),
    "addition_time_embed_dim": _optional_positive_int,
    "num_class_embeds": one_of(None),
    "upcast_attention": one_of(True, False, None),
    "resnet_time_scale_shift": one_of("default"),
    "resnet_skip_time_act": one_of(False),
    "resnet_out_scale_factor": one_of(1, 1.0),
    "time_embedding_type": one_of("positional"),
    "time_embedding_dim": one_of(None),
    "time_embedding_act_fn": one_of(None),
    "timestep_post_act": one_of(None),
    # guidance-embedded (LCM-distilled) U-Nets: a 4th input, timestep_cond [B, time_cond_proj_dim]
    "time_cond_proj_dim": _optional_positive_int,
    "conv_in_kernel": _odd_kernel,
    "conv_out_kernel": _odd_kernel,
    "projection_class_embeddings_input_dim": _optional_positive_int,
    "attention_type": one_of("default"),
    "class_embeddings_concat": one_of(False),
    "cross_attention_norm": one_of(None),
    "addition_embed_type_num_heads": anything,  # read only with addition_embed_type "text"
}
IGNORED_CONFIG_KEYS = ("dropout",)


class UNetConfig:
    """The config reduced to what the modules need, with diffusers' defaults and its rules for
    broadcasting per-level values."""

    def __init__(self, config: dict, path: str):
        check_config(config, path, RULES, IGNORED_CONFIG_KEYS)
        get = lambda key, default: config.get(key, default) if config.get(key) is not None else default
        self.down_types = list(get("down_block_types", ["CrossAttnDownBlock2D"] * 3 + ["DownBlock2D"]))
        self.up_types = list(get("up_block_types", ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * 3))
        levels = len(self.down_types)
        self.channels = list(get("block_out_channels", [320, 640, 1280, 1280]))

        def per_level(key, default):
            value = get(key, default)
            values = [value] * levels if isinstance(value, int) else list(value)
            if len(values) != levels:
                raise CheckpointError(f"{path}: unsupported {key} = {value!r} "
                                      f"({len(values)} values for {levels} down blocks)")
            return values

        if len(self.up_types) != levels or len(self.channels) != levels:
            raise CheckpointError(f"{path}: unsupported up_block_types / block_out_channels lengths "
                                  f"({len(self.up_types)}, {len(self.channels)}) for {levels} down blocks")
        self.layers = per_level("layers_per_block", 2)
        self.transformer_layers = per_level("transformer_layers_per_block", 1)
        # diffusers: `num_attention_heads = num_attention_heads or attention_head_dim`, and
        # num_attention_heads must be null, so attention_head_dim is the number of heads per level
        # (SD 1's 8 and SD 2's [5, 10, 20, 20] alike), head size = channels // heads.
        self.heads = per_level("attention_head_dim", 8)
        for c, h in zip(self.channels, self.heads):
            if c % h:
                raise CheckpointError(f"{path}: unsupported attention_head_dim = {h} "
                                      f"(number of heads, does not divide {c} channels)")
        self.in_channels = get("in_channels", 4)
        self.out_channels = get("out_channels", 4)
        # An inpainting U-Net takes the mask and the masked image's latent beside the latent (2C + 1 channels);
        # other extra inputs (instruct-pix2pix's image latent, 2C) are conditioning the server does not feed.
        if self.in_channels not in (self.out_channels, 2 * self.out_channels + 1):
            raise CheckpointError(f"{path}: unsupported in_channels = {self.in_channels} with "
                                  f"out_channels = {self.out_channels} (only {self.out_channels}, or "
                                  f"{2 * self.out_channels + 1} for an inpainting U-Net: other conditioning "
                                  "U-Nets take extra input channels the server does not feed)")
        self.sample_size = get("sample_size", 64)
        self.flip_sin_to_cos = get("flip_sin_to_cos", True)
        self.freq_shift = get("freq_shift", 0)
        self.downsample_padding = get("downsample_padding", 1)
        self.mid_scale = float(get("mid_block_scale_factor", 1.0))
        self.groups = get("norm_num_groups", 32)
        self.eps = get("norm_eps", 1e-5)
        self.cross_dim = get("cross_attention_dim", 1280)
        self.linear_projection = get("use_linear_projection", False)
        self.upcast = bool(get("upcast_attention", False))
        self.conv_in_kernel = get("conv_in_kernel", 3)
        self.conv_out_kernel = get("conv_out_kernel", 3)
        # None, or the width of LCM's guidance embedding (diffusers' TimestepEmbedding.cond_proj)
        self.time_cond_proj_dim = config.get("time_cond_proj_dim")
        # None, or "text_time" (SDXL): add_embedding(text_embeds ++ sinusoids of the time ids)
        self.addition_embed_type = config.get("addition_embed_type")
        self.addition_time_embed_dim = config.get("addition_time_embed_dim")
        self.projection_class_embeddings_input_dim = config.get("projection_class_embeddings_input_dim")
        if self.addition_embed_type == "text_time":
            for key in ("addition_time_embed_dim", "projection_class_embeddings_input_dim"):
                if config.get(key) is None:
                    raise CheckpointError(f"{path}: addition_embed_type = 'text_time' needs {key}")

    def describe(self) -> str:
        return (f"U-Net {len(self.channels)} levels {self.channels}, {self.down_types} / {self.up_types}, "
                f"layers {self.layers}, heads {self.heads}, transformer layers {self.transformer_layers}, "
                f"cross-attention {self.cross_dim}, {'linear' if self.linear_projection else 'conv'} "
                f"projections{', upcast attention' if self.upcast else ''}"
                + (f", guidance embedding (time_cond_proj_dim {self.time_cond_proj_dim}: LCM)"
                   if self.time_cond_proj_dim else "")
                + (f", text_time added conditions (addition_time_embed_dim {self.addition_time_embed_dim}, "
                   f"projection_class_embeddings_input_dim {self.projection_class_embeddings_input_dim})"
                   if self.addition_embed_type else ""))


def timestep_embedding(timesteps: torch.Tensor, dim: int, flip_sin_to_cos: bool,
                       freq_shift: float) -> torch.Tensor:
    """diffusers' get_timestep_embedding, in float32 from the tensor (fractional timesteps, one per
    row) with diffusers' order of operations: [...] -> [..., dim]."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32, device=timesteps.device)
    exponent = exponent / (half - freq_shift)
    emb = timesteps[..., None].float() * torch.exp(exponent)
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[..., half:], emb[..., :half]], dim=-1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class _GEGLU(nn.Module):
    def __init__(self, dim: int, inner: int):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class _FeedForward(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        # index 1 is diffusers' dropout; keeping it puts the output projection at net.2
        self.net = nn.ModuleList([_GEGLU(dim, dim * 4), nn.Identity(), nn.Linear(dim * 4, dim)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.net:
            x = layer(x)
        return x


class _BasicTransformerBlock(nn.Module):
    def __init__(self, dim: int, heads: int, cross_dim: int, upcast: bool):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads, dim // heads, upcast=upcast)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, dim // heads, context_dim=cross_dim, upcast=upcast)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = _FeedForward(dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class _Transformer2D(nn.Module):
    def __init__(self, c: UNetConfig, channels: int, heads: int, layers: int):
        super().__init__()
        self.norm = nn.GroupNorm(c.groups, channels, eps=1e-6)
        self.linear = c.linear_projection
        if self.linear:
            self.proj_in = nn.Linear(channels, channels)
            self.proj_out = nn.Linear(channels, channels)
        else:
            self.proj_in = nn.Conv2d(channels, channels, 1)
            self.proj_out = nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList(
            [_BasicTransformerBlock(channels, heads, c.cross_dim, c.upcast) for _ in range(layers)])

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        residual = x
        h = self.norm(x)
        if not self.linear:
            h = self.proj_in(h)
        h = h.flatten(2).transpose(1, 2)
        if self.linear:
            h = self.proj_in(h)
        for block in self.transformer_blocks:
            h = block(h, context)
        if self.linear:
            h = self.proj_out(h)
        h = h.transpose(1, 2).reshape_as(residual)
        if not self.linear:
            h = self.proj_out(h)
        return h + residual


class _DownBlock(nn.Module):
    """CrossAttnDownBlock2D (with_attention) or DownBlock2D."""

    def __init__(self, c: UNetConfig, level: int, temb: int, with_attention: bool):
        super().__init__()
        in_ch = c.channels[max(level - 1, 0)]
        out_ch = c.channels[level]
        n = c.layers[level]
        self.resnets = nn.ModuleList([ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, temb, c.groups, c.eps)
                                      for i in range(n)])
        self.attentions = nn.ModuleList(
            [_Transformer2D(c, out_ch, c.heads[level], c.transformer_layers[level]) for _ in range(n)]
            if with_attention else [])
        last = level == len(c.channels) - 1
        self.downsamplers = None if last else nn.ModuleList([Downsample2D(out_ch, c.downsample_padding)])

    def forward(self, x, temb, context) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if len(self.attentions):
                x = self.attentions[i](x, context)
            skips.append(x)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class _MidBlock(nn.Module):
    def __init__(self, c: UNetConfig, temb: int):
        super().__init__()
        ch = c.channels[-1]
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb, c.groups, c.eps, c.mid_scale) for _ in range(2)])
        self.attentions = nn.ModuleList([_Transformer2D(c, ch, c.heads[-1], c.transformer_layers[-1])])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class _UpBlock(nn.Module):
    """CrossAttnUpBlock2D (with_attention) or UpBlock2D; `i` counts from the lowest level, and the
    per-level settings are read reversed, as diffusers does."""

    def __init__(self, c: UNetConfig, i: int, temb: int, with_attention: bool):
        super().__init__()
        rev = lambda values: list(reversed(values))
        levels = len(c.channels)
        out_ch = rev(c.channels)[i]
        prev_out = rev(c.channels)[max(i - 1, 0)]
        skip_in = rev(c.channels)[min(i + 1, levels - 1)]
        n = rev(c.layers)[i] + 1
        self.resnets = nn.ModuleList([
            ResnetBlock2D((prev_out if j == 0 else out_ch) + (skip_in if j == n - 1 else out_ch), out_ch,
                          temb, c.groups, c.eps)
            for j in range(n)])
        self.attentions = nn.ModuleList(
            [_Transformer2D(c, out_ch, rev(c.heads)[i], rev(c.transformer_layers)[i]) for _ in range(n)]
            if with_attention else [])
        last = i == levels - 1
        self.upsamplers = None if last else nn.ModuleList([Upsample2D(out_ch)])

    def forward(self, x, skips: List[torch.Tensor], temb, context):
        for j, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if len(self.attentions):
                x = self.attentions[j](x, context)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class _TimestepEmbedding(nn.Module):
    def __init__(self, in_dim: int, dim: int, cond_proj_dim: Optional[int] = None):
        super().__init__()
        self.linear_1 = nn.Linear(in_dim, dim)
        if cond_proj_dim is not None:
            # diffusers: TimestepEmbedding(..., cond_proj_dim=time_cond_proj_dim) projects the U-Net's
            # timestep_cond onto the sinusoidal embedding, without bias (applied in the U-Net's forward)
            self.cond_proj = nn.Linear(cond_proj_dim, in_dim, bias=False)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear_2(F.silu(self.linear_1(x)))


class UNet2DConditionModel(nn.Module):
    """(sample [B, C, h, w], timestep float [B], encoder_hidden_states [B, L, D] [, text_embeds [B, P],
    time_ids [B, 6]] [, timestep_cond [B, time_cond_proj_dim]]) -> [B, C, h, w], unet.pt's inputs:

    - text_embeds and time_ids with addition_embed_type "text_time" (SDXL). As diffusers does, each time
      id gets its own sinusoidal embedding of addition_time_embed_dim (the U-Net's flip_sin_to_cos and
      freq_shift), flattened after text_embeds; add_embedding of that is added to the time embedding.
    - timestep_cond with time_cond_proj_dim (LCM): what diffusers does with it,
      `t_emb + time_embedding.cond_proj(timestep_cond)` before time_embedding.linear_1. A module traced
      without it has exactly the graph of a U-Net without time_cond_proj_dim. Without text_time it is
      the 4th input: unet_model() gives that signature."""

    def __init__(self, c: UNetConfig):
        super().__init__()
        self.c = c
        ch0 = c.channels[0]
        temb = ch0 * 4
        self.conv_in = nn.Conv2d(c.in_channels, ch0, c.conv_in_kernel, padding=(c.conv_in_kernel - 1) // 2)
        self.time_embedding = _TimestepEmbedding(ch0, temb, c.time_cond_proj_dim)
        if c.addition_embed_type == "text_time":
            self.add_embedding = _TimestepEmbedding(c.projection_class_embeddings_input_dim, temb)
        self.down_blocks = nn.ModuleList([_DownBlock(c, i, temb, t == "CrossAttnDownBlock2D")
                                          for i, t in enumerate(c.down_types)])
        self.mid_block = _MidBlock(c, temb)
        self.up_blocks = nn.ModuleList([_UpBlock(c, i, temb, t == "CrossAttnUpBlock2D")
                                        for i, t in enumerate(c.up_types)])
        self.conv_norm_out = nn.GroupNorm(c.groups, ch0, eps=c.eps)
        self.conv_out = nn.Conv2d(ch0, c.out_channels, c.conv_out_kernel, padding=(c.conv_out_kernel - 1) // 2)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
                text_embeds: Optional[torch.Tensor] = None, time_ids: Optional[torch.Tensor] = None,
                timestep_cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        c = self.c
        t_emb = timestep_embedding(timestep, c.channels[0], c.flip_sin_to_cos, c.freq_shift).type_as(sample)
        if timestep_cond is not None:
            t_emb = t_emb + self.time_embedding.cond_proj(timestep_cond)
        emb = self.time_embedding(t_emb)
        if c.addition_embed_type == "text_time":
            time_embeds = timestep_embedding(time_ids, c.addition_time_embed_dim, c.flip_sin_to_cos, c.freq_shift)
            emb = emb + self.add_embedding(torch.cat([text_embeds, time_embeds.flatten(1).type_as(text_embeds)], -1))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            x, block_skips = block(x, emb, encoder_hidden_states)
            skips.extend(block_skips)
        x = self.mid_block(x, emb, encoder_hidden_states)
        for block in self.up_blocks:
            x = block(x, skips, emb, encoder_hidden_states)
        return self.conv_out(F.silu(self.conv_norm_out(x)))

    def size_multiple(self) -> int:
        """Latent pixels per lowest-level pixel: sizes must be multiples of it."""
        return 2 ** (len(self.c.channels) - 1)


class _GuidanceEmbeddedUNet(UNet2DConditionModel):
    """An LCM U-Net without added conditions: timestep_cond is unet.pt's 4th input."""

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, encoder_hidden_states: torch.Tensor,
                timestep_cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        return super().forward(sample, timestep, encoder_hidden_states, timestep_cond=timestep_cond)


def unet_model(c: UNetConfig) -> UNet2DConditionModel:
    """The U-Net whose forward takes unet.pt's inputs for this config, in the contract's order."""
    lcm_only = c.time_cond_proj_dim and c.addition_embed_type is None
    return (_GuidanceEmbeddedUNet if lcm_only else UNet2DConditionModel)(c)


def guidance_scale_embedding(w: torch.Tensor, dim: int) -> torch.Tensor:
    """diffusers' LatentConsistencyModelPipeline.get_guidance_scale_embedding: [B] -> [B, dim], what
    an LCM U-Net takes as timestep_cond, with w = guidance_scale - 1 (the server computes it; the
    exporter uses it for realistic verification inputs)."""
    w = w.float() * 1000.0
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -(torch.log(torch.tensor(10000.0)) / (half - 1)))
    emb = w[:, None] * freq[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb
