"""diffusers' `AutoencoderKL` (Stable Diffusion's VAE), built from its config.json, and the two
exported entry points: latents -> image, image -> latent mean."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from attention import multi_head_attention
from checkpoint_weights import CheckpointError
from config_rules import anything, check_config, int_or_list, one_of, positive_int
from resnet_blocks import Downsample2D, ResnetBlock2D, Upsample2D

DEFAULT_SCALING_FACTOR = 0.18215

RULES = {
    "in_channels": one_of(3),
    "out_channels": one_of(3),
    "down_block_types": lambda v: isinstance(v, list) and v and all(x == "DownEncoderBlock2D" for x in v),
    "up_block_types": lambda v: isinstance(v, list) and v and all(x == "UpDecoderBlock2D" for x in v),
    "block_out_channels": int_or_list,
    "layers_per_block": positive_int,
    "act_fn": one_of("silu", "swish"),
    "latent_channels": positive_int,
    "norm_num_groups": positive_int,
    "sample_size": anything,
    "scaling_factor": lambda v: isinstance(v, (int, float)) and v > 0,
    # diffusers' SDXL pipelines decode and encode in float32 when true, and so do SDXL exports
    "force_upcast": one_of(True, False),
    # keys of later diffusers versions, accepted at the values that mean SD's VAE
    "shift_factor": one_of(None, 0, 0.0),
    "latents_mean": one_of(None),
    "latents_std": one_of(None),
    "use_quant_conv": one_of(True),
    "use_post_quant_conv": one_of(True),
    "mid_block_add_attention": one_of(True),
}
# diffusers converts these pre-0.14 names of the mid-block attention on load; so does this exporter
_OLD_ATTENTION_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


def rename_old_attention_key(name: str) -> str:
    parts = name.split(".")
    if len(parts) >= 5 and parts[1:3] == ["mid_block", "attentions"] and parts[4] in _OLD_ATTENTION_NAMES:
        return ".".join(parts[:4] + [_OLD_ATTENTION_NAMES[parts[4]]] + parts[5:])
    return name


class VaeConfig:
    def __init__(self, config: dict, path: str):
        check_config(config, path, RULES)
        get = lambda key, default: config.get(key) if config.get(key) is not None else default
        self.channels = list(get("block_out_channels", [64]))
        if len(get("down_block_types", ["DownEncoderBlock2D"])) != len(self.channels) or \
                len(get("up_block_types", ["UpDecoderBlock2D"])) != len(self.channels):
            raise CheckpointError(f"{path}: unsupported down_block_types / up_block_types lengths "
                                  f"for {len(self.channels)} block_out_channels")
        self.layers = get("layers_per_block", 1)
        self.latent_channels = get("latent_channels", 4)
        self.groups = get("norm_num_groups", 32)
        self.scaling_factor = float(get("scaling_factor", DEFAULT_SCALING_FACTOR))
        self.force_upcast = get("force_upcast", True)  # AutoencoderKL's default

    @property
    def scale_factor(self) -> int:
        return 2 ** (len(self.channels) - 1)

    def describe(self) -> str:
        return (f"VAE {len(self.channels)} levels {self.channels}, layers {self.layers}, "
                f"{self.latent_channels} latent channels, scaling factor {self.scaling_factor}")


class _MidAttention(nn.Module):
    """Single-head spatial self-attention with its own GroupNorm and a residual; softmax in float32."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, channels, eps=1e-6)
        self.to_q = nn.Linear(channels, channels)
        self.to_k = nn.Linear(channels, channels)
        self.to_v = nn.Linear(channels, channels)
        self.to_out = nn.ModuleList([nn.Linear(channels, channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.group_norm(x).flatten(2).transpose(1, 2)
        h = multi_head_attention(self.to_q(h), self.to_k(h), self.to_v(h), heads=1, upcast=True)
        return self.to_out[0](h).transpose(1, 2).reshape_as(x) + x


class _MidBlock(nn.Module):
    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, None, groups, 1e-6) for _ in range(2)])
        self.attentions = nn.ModuleList([_MidAttention(channels, groups)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class _EncoderBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, layers: int, groups: int, downsample: bool):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, None, groups, 1e-6)
                                      for i in range(layers)])
        self.downsamplers = nn.ModuleList([Downsample2D(out_ch, padding=0)]) if downsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x)
        return self.downsamplers[0](x) if self.downsamplers is not None else x


class _DecoderBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, layers: int, groups: int, upsample: bool):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(in_ch if i == 0 else out_ch, out_ch, None, groups, 1e-6)
                                      for i in range(layers)])
        self.upsamplers = nn.ModuleList([Upsample2D(out_ch)]) if upsample else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for resnet in self.resnets:
            x = resnet(x)
        return self.upsamplers[0](x) if self.upsamplers is not None else x


class _Encoder(nn.Module):
    def __init__(self, c: VaeConfig):
        super().__init__()
        ch = c.channels
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        self.down_blocks = nn.ModuleList([
            _EncoderBlock(ch[max(i - 1, 0)], ch[i], c.layers, c.groups, i < len(ch) - 1) for i in range(len(ch))])
        self.mid_block = _MidBlock(ch[-1], c.groups)
        self.conv_norm_out = nn.GroupNorm(c.groups, ch[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(ch[-1], 2 * c.latent_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv_in(x)
        for block in self.down_blocks:
            x = block(x)
        x = self.mid_block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class _Decoder(nn.Module):
    def __init__(self, c: VaeConfig):
        super().__init__()
        rev = list(reversed(c.channels))
        self.conv_in = nn.Conv2d(c.latent_channels, rev[0], 3, padding=1)
        self.mid_block = _MidBlock(rev[0], c.groups)
        self.up_blocks = nn.ModuleList([
            _DecoderBlock(rev[max(i - 1, 0)], rev[i], c.layers + 1, c.groups, i < len(rev) - 1)
            for i in range(len(rev))])
        self.conv_norm_out = nn.GroupNorm(c.groups, rev[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(rev[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.mid_block(self.conv_in(z))
        for block in self.up_blocks:
            x = block(x)
        return self.conv_out(F.silu(self.conv_norm_out(x)))


class AutoencoderKL(nn.Module):
    def __init__(self, c: VaeConfig):
        super().__init__()
        self.encoder = _Encoder(c)
        self.decoder = _Decoder(c)
        self.quant_conv = nn.Conv2d(2 * c.latent_channels, 2 * c.latent_channels, 1)
        self.post_quant_conv = nn.Conv2d(c.latent_channels, c.latent_channels, 1)


class VaeDecoder(nn.Module):
    """Latents already divided by scaling_factor -> image in [-1, 1] (not clamped)."""

    def __init__(self, vae: AutoencoderKL):
        super().__init__()
        self.post_quant_conv = vae.post_quant_conv
        self.decoder = vae.decoder

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.post_quant_conv(latents))


class VaeEncoder(nn.Module):
    """Image in [-1, 1] -> the mean half of the latent distribution's moments (not scaled)."""

    def __init__(self, vae: AutoencoderKL):
        super().__init__()
        self.encoder = vae.encoder
        self.quant_conv = vae.quant_conv

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.quant_conv(self.encoder(image)).chunk(2, dim=1)[0]
