"""The default model's networks: a KL-regularized VAE (Stable Diffusion's AutoencoderKL in small),
a word-level transformer text encoder, and a latent U-Net with timestep embedding, self- and
cross-attention. Every module is TorchScript-compatible (torch.jit.script) with a free batch size,
and computes every batch row independently (GroupNorm and LayerNorm only, no batch statistics).
"""

import math
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F


def groups(channels: int) -> int:
    for g in (32, 16, 8, 4, 2, 1):
        if channels % g == 0 and channels // g >= 4:
            return g
    return 1


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice with an optional timestep embedding added in between; 1x1 conv
    shortcut when the channel count changes."""

    def __init__(self, cin: int, cout: int, temb_dim: int = 0):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups(cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb_proj = nn.Linear(temb_dim, cout) if temb_dim > 0 else None
        self.norm2 = nn.GroupNorm(groups(cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, temb: Optional[torch.Tensor] = None) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        proj = self.temb_proj
        if proj is not None and temb is not None:
            h = h + proj(temb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Downsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


# ----------------------------------------------------------------------------------------------
# VAE

class VaeEncoder(nn.Module):
    """image [B, 3, H, W] in [-1, 1] -> moments [B, 2C, H/f, W/f] (mean, logvar)."""

    def __init__(self, channels: Sequence[int], latent_channels: int, blocks: int = 1):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels[0], 3, padding=1)
        layers: List[nn.Module] = []
        cin = channels[0]
        for i, ch in enumerate(channels):
            for _ in range(blocks):
                layers.append(ResBlock(cin, ch))
                cin = ch
            if i < len(channels) - 1:
                layers.append(Downsample(ch))
        layers.append(ResBlock(cin, cin))
        self.body = nn.Sequential(*[_NoTemb(m) for m in layers])
        self.norm_out = nn.GroupNorm(groups(cin), cin)
        self.conv_out = nn.Conv2d(cin, 2 * latent_channels, 3, padding=1)
        self.quant_conv = nn.Conv2d(2 * latent_channels, 2 * latent_channels, 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        h = self.body(self.conv_in(image))
        return self.quant_conv(self.conv_out(F.silu(self.norm_out(h))))


class VaeDecoder(nn.Module):
    """latents [B, C, h, w] (unscaled) -> image [B, 3, h*f, w*f], unclamped."""

    def __init__(self, channels: Sequence[int], latent_channels: int, blocks: int = 2):
        super().__init__()
        rev = list(channels)[::-1]
        self.post_quant_conv = nn.Conv2d(latent_channels, latent_channels, 1)
        self.conv_in = nn.Conv2d(latent_channels, rev[0], 3, padding=1)
        layers: List[nn.Module] = [ResBlock(rev[0], rev[0])]
        cin = rev[0]
        for i, ch in enumerate(rev):
            for _ in range(blocks):
                layers.append(ResBlock(cin, ch))
                cin = ch
            if i < len(rev) - 1:
                layers.append(Upsample(ch))
        self.body = nn.Sequential(*[_NoTemb(m) for m in layers])
        self.norm_out = nn.GroupNorm(groups(cin), cin)
        self.conv_out = nn.Conv2d(cin, 3, 3, padding=1)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        h = self.body(self.conv_in(self.post_quant_conv(latents)))
        return self.conv_out(F.silu(self.norm_out(h)))


class _NoTemb(nn.Module):
    """Lets ResBlock, Downsample and Upsample sit in an nn.Sequential (TorchScript needs one
    forward signature there)."""

    def __init__(self, inner: nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


class AutoencoderKL(nn.Module):
    def __init__(self, channels: Sequence[int] = (32, 64, 128, 128), latent_channels: int = 4,
                 encoder_blocks: int = 1, decoder_blocks: int = 2):
        super().__init__()
        self.latent_channels = latent_channels
        self.scale_factor = 2 ** (len(channels) - 1)
        self.encoder = VaeEncoder(channels, latent_channels, encoder_blocks)
        self.decoder = VaeDecoder(channels, latent_channels, decoder_blocks)

    def encode(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        moments = self.encoder(image)
        mean, logvar = moments.chunk(2, dim=1)
        return mean, logvar.clamp(-30.0, 20.0)

    def forward(self, image: torch.Tensor, noise: torch.Tensor):
        """Reconstruction from a posterior sample (noise ~ N(0, I) of the latents' shape), mean,
        logvar."""
        mean, logvar = self.encode(image)
        z = mean + torch.exp(0.5 * logvar) * noise
        return self.decoder(z), mean, logvar


class VaeEncoderExport(nn.Module):
    """vae_encoder.pt: image in [-1, 1] -> latent mean, before scaling."""

    def __init__(self, encoder: VaeEncoder, latent_channels: int):
        super().__init__()
        self.encoder = encoder
        self.latent_channels = latent_channels

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image)[:, :self.latent_channels]


class VaeDecoderExport(nn.Module):
    """vae_decoder.pt: latents already divided by scaling_factor -> image in [-1, 1]."""

    def __init__(self, decoder: VaeDecoder):
        super().__init__()
        self.decoder = decoder

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.decoder(latents).clamp(-1.0, 1.0)


# ----------------------------------------------------------------------------------------------
# attention

class Attention(nn.Module):
    """Multi-head attention of x [B, N, dim] over context [B, M, context_dim]."""

    def __init__(self, dim: int, context_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.head_dim = dim // heads
        self.scale = 1.0 / math.sqrt(self.head_dim)
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b = x.size(0)
        n = x.size(1)
        m = context.size(1)
        q = self.to_q(x).reshape(b, n, self.heads, self.head_dim).transpose(1, 2)
        k = self.to_k(context).reshape(b, m, self.heads, self.head_dim).transpose(1, 2)
        v = self.to_v(context).reshape(b, m, self.heads, self.head_dim).transpose(1, 2)
        w = torch.softmax(torch.matmul(q * self.scale, k.transpose(-1, -2)), dim=-1)
        a = torch.matmul(w, v).transpose(1, 2).reshape(b, n, self.heads * self.head_dim)
        return self.to_out(a)


class SpatialTransformer(nn.Module):
    """GroupNorm, 1x1 in, [self-attention], cross-attention to the text, GELU MLP, 1x1 out, residual
    (Stable Diffusion's Transformer2DModel with one block)."""

    def __init__(self, ch: int, context_dim: int, heads: int, self_attention: bool, ff_mult: int = 4):
        super().__init__()
        self.norm = nn.GroupNorm(groups(ch), ch)
        self.proj_in = nn.Linear(ch, ch)
        self.norm1 = nn.LayerNorm(ch) if self_attention else None
        self.attn1 = Attention(ch, ch, heads) if self_attention else None
        self.norm2 = nn.LayerNorm(ch)
        self.attn2 = Attention(ch, context_dim, heads)
        self.norm3 = nn.LayerNorm(ch)
        self.ff1 = nn.Linear(ch, ff_mult * ch)
        self.ff2 = nn.Linear(ff_mult * ch, ch)
        self.proj_out = nn.Linear(ch, ch)
        nn.init.zeros_(self.proj_out.weight)
        nn.init.zeros_(self.proj_out.bias)

    def forward(self, x: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        b = x.size(0)
        c = x.size(1)
        hh = x.size(2)
        ww = x.size(3)
        h = self.norm(x).reshape(b, c, hh * ww).transpose(1, 2)
        h = self.proj_in(h)
        norm1 = self.norm1
        attn1 = self.attn1
        if norm1 is not None and attn1 is not None:
            n = norm1(h)
            h = h + attn1(n, n)
        h = h + self.attn2(self.norm2(h), context)
        h = h + self.ff2(F.gelu(self.ff1(self.norm3(h))))
        h = self.proj_out(h)
        return x + h.transpose(1, 2).reshape(b, c, hh, ww)


# ----------------------------------------------------------------------------------------------
# text encoder

class TextEncoder(nn.Module):
    """input_ids int64 [B, L] -> [B, L, dim]: token + learned position embeddings, pre-LN
    bidirectional transformer layers (no padding mask: the server pads every prompt the same way,
    and training saw exactly that), final LayerNorm."""

    def __init__(self, vocab_size: int, dim: int = 128, layers: int = 2, heads: int = 4,
                 max_length: int = 16):
        super().__init__()
        self.max_length = max_length
        self.token_embedding = nn.Embedding(vocab_size, dim)
        self.position_embedding = nn.Parameter(torch.randn(max_length, dim) * 0.02)
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        self.ln1 = nn.ModuleList([nn.LayerNorm(dim) for _ in range(layers)])
        self.attn = nn.ModuleList([Attention(dim, dim, heads) for _ in range(layers)])
        self.ln2 = nn.ModuleList([nn.LayerNorm(dim) for _ in range(layers)])
        self.fc1 = nn.ModuleList([nn.Linear(dim, 4 * dim) for _ in range(layers)])
        self.fc2 = nn.ModuleList([nn.Linear(4 * dim, dim) for _ in range(layers)])
        self.ln_final = nn.LayerNorm(dim)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        length = input_ids.size(1)
        # longer inputs than trained for (a server set up with another text_max_length) are cut
        # to max_length positions and padded back, so that the output keeps its [B, L, D] shape
        used = min(length, self.max_length)
        x = self.token_embedding(input_ids[:, :used]) + self.position_embedding[:used].unsqueeze(0)
        for ln1, attn, ln2, fc1, fc2 in zip(self.ln1, self.attn, self.ln2, self.fc1, self.fc2):
            h = ln1(x)
            x = x + attn(h, h)
            x = x + fc2(F.gelu(fc1(ln2(x))))
        x = self.ln_final(x)
        if used < length:
            x = torch.cat([x, x[:, used - 1:used].expand(x.size(0), length - used, x.size(2))], dim=1)
        return x


# ----------------------------------------------------------------------------------------------
# U-Net

def timestep_embedding(timestep: torch.Tensor, dim: int) -> torch.Tensor:
    """diffusers' sinusoidal embedding (flip_sin_to_cos=True, downscale_freq_shift=0) of float
    timesteps [B] -> [B, dim]."""
    half = dim // 2
    exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=timestep.device) / half
    args = timestep.to(torch.float32)[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def guidance_embedding(w: torch.Tensor, dim: int) -> torch.Tensor:
    """diffusers' LatentConsistencyModelPipeline.get_guidance_scale_embedding of w = guidance_scale - 1
    [B] -> [B, dim]: what a guidance-embedded U-Net takes as timestep_cond."""
    half = dim // 2
    step = torch.log(torch.tensor(10000.0)) / (half - 1)
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -step)
    args = (w.to(torch.float32) * 1000.0)[:, None] * freq[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if dim % 2 == 1:
        emb = F.pad(emb, (0, 1))
    return emb


class UNetLevel(nn.Module):
    """Blocks of one resolution: ResBlocks, each followed by a transformer where the level has
    attention."""

    def __init__(self, cins: List[int], cout: int, temb_dim: int, context_dim: int, heads: int,
                 attention: str, ff_mult: int):
        super().__init__()
        self.res = nn.ModuleList([ResBlock(cin, cout, temb_dim) for cin in cins])
        self.has_attn = attention != "none"
        self.attn = nn.ModuleList([
            SpatialTransformer(cout, context_dim, heads, attention == "self+cross", ff_mult)
            for _ in (cins if self.has_attn else [])])


class UNet(nn.Module):
    """(sample [B, C, h, w], timestep [B] float, encoder_hidden_states [B, L, D]
    [, timestep_cond [B, time_cond_proj_dim]]) -> eps [B, C, h, w].

    Two coordinate channels (x and y from -1 to 1 across the latent) are concatenated to the sample
    inside the module, so that position words have something to bind to. Latent sizes that are not
    multiples of 2**(levels - 1) are padded (edge values repeated, coordinates continued) and the
    output cropped back, so any image size that is a multiple of the VAE's factor works. `attention[i]` is "none",
    "cross" or "self+cross" for level i (resolution h / 2**i); the middle block always has
    self- and cross-attention. `blocks[i]` ResBlocks per level on the way down, one more on the
    way up (Stable Diffusion's layout)."""

    def __init__(self, latent_channels: int = 4, channels: Sequence[int] = (64, 128),
                 blocks: Sequence[int] = (2, 2), attention: Sequence[str] = ("cross", "self+cross"),
                 context_dim: int = 128, heads: int = 4, coords: bool = True, ff_mult: int = 4,
                 temb_mult: int = 4, time_cond_proj_dim: int = 0):
        super().__init__()
        self.coords = coords
        self.ch0 = channels[0]
        self.multiple = 2 ** (len(channels) - 1)
        temb_dim = temb_mult * channels[0]
        # a guidance-embedded (LCM) U-Net adds a projection of timestep_cond to the sinusoidal
        # timestep embedding, as diffusers' TimestepEmbedding.cond_proj does; zero at first, so a
        # student starts out as its teacher
        self.cond_proj = nn.Linear(time_cond_proj_dim, channels[0], bias=False) if time_cond_proj_dim > 0 else None
        if self.cond_proj is not None:
            nn.init.zeros_(self.cond_proj.weight)
        self.time_fc1 = nn.Linear(channels[0], temb_dim)
        self.time_fc2 = nn.Linear(temb_dim, temb_dim)
        self.conv_in = nn.Conv2d(latent_channels + (2 if coords else 0), channels[0], 3, padding=1)
        # down path
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips = [channels[0]]
        cin = channels[0]
        for i, ch in enumerate(channels):
            level = UNetLevel([cin] + [ch] * (blocks[i] - 1), ch, temb_dim, context_dim, heads,
                              attention[i], ff_mult)
            self.down.append(level)
            skips += [ch] * blocks[i]
            cin = ch
            if i < len(channels) - 1:
                self.downsample.append(Downsample(ch))
                skips.append(ch)
            else:
                self.downsample.append(nn.Identity())
        self.mid1 = ResBlock(cin, cin, temb_dim)
        self.mid_attn = SpatialTransformer(cin, context_dim, heads, True, ff_mult)
        self.mid2 = ResBlock(cin, cin, temb_dim)
        # up path
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i in reversed(range(len(channels))):
            ch = channels[i]
            cins = []
            for _ in range(blocks[i] + 1):
                cins.append(cin + skips.pop())
                cin = ch
            self.up.append(UNetLevel(cins, ch, temb_dim, context_dim, heads, attention[i], ff_mult))
            self.upsample.append(Upsample(ch) if i > 0 else nn.Identity())
        self.norm_out = nn.GroupNorm(groups(cin), cin)
        self.conv_out = nn.Conv2d(cin, latent_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor,
                timestep_cond: Optional[torch.Tensor] = None) -> torch.Tensor:
        b = sample.size(0)
        hh = sample.size(2)
        ww = sample.size(3)
        temb = timestep_embedding(timestep.reshape(-1).expand(b), self.ch0).to(sample.dtype)
        cond_proj = self.cond_proj
        if cond_proj is not None and timestep_cond is not None:
            temb = temb + cond_proj(timestep_cond)
        temb = F.silu(self.time_fc2(F.silu(self.time_fc1(temb))))
        ph = (self.multiple - hh % self.multiple) % self.multiple
        pw = (self.multiple - ww % self.multiple) % self.multiple
        x = sample
        if ph > 0 or pw > 0:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
        if self.coords:
            # -1 .. 1 across the unpadded latent, continued over any padding
            ys = -1.0 + 2.0 / max(hh - 1, 1) * torch.arange(hh + ph, dtype=sample.dtype, device=sample.device)
            xs = -1.0 + 2.0 / max(ww - 1, 1) * torch.arange(ww + pw, dtype=sample.dtype, device=sample.device)
            grid_x = xs.view(1, 1, 1, ww + pw).expand(b, 1, hh + ph, ww + pw)
            grid_y = ys.view(1, 1, hh + ph, 1).expand(b, 1, hh + ph, ww + pw)
            x = torch.cat([x, grid_x, grid_y], dim=1)
        h = self.conv_in(x)
        skips: List[torch.Tensor] = [h]
        for level, down in zip(self.down, self.downsample):
            for j, res in enumerate(level.res):
                h = res(h, temb)
                if level.has_attn:
                    # TorchScript cannot index a ModuleList by a loop variable; walk it instead
                    for k, attn in enumerate(level.attn):
                        if k == j:
                            h = attn(h, encoder_hidden_states)
                skips.append(h)
            if not isinstance(down, nn.Identity):
                h = down(h)
                skips.append(h)
        h = self.mid1(h, temb)
        h = self.mid_attn(h, encoder_hidden_states)
        h = self.mid2(h, temb)
        for level, up in zip(self.up, self.upsample):
            for j, res in enumerate(level.res):
                h = res(torch.cat([h, skips.pop()], dim=1), temb)
                if level.has_attn:
                    for k, attn in enumerate(level.attn):
                        if k == j:
                            h = attn(h, encoder_hidden_states)
            h = up(h)
        out = self.conv_out(F.silu(self.norm_out(h)))
        if ph > 0 or pw > 0:
            out = out[:, :, :hh, :ww]
        return out


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
