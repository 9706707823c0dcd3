"""Multi-head scaled dot-product attention shared by the CLIP text encoder, the U-Net and the VAE.

Plain matmul + softmax: diffusers' `torch.baddbmm(empty, q, k^T, beta=0)` sporadically returns NaN
on torch 1.13 CPU for small matrices (uninitialised memory leaks through beta=0). Heads are split
with `unflatten`/`flatten` and batched 4-D matmuls, so no size read from a tensor is baked into a
traced graph.
"""

from typing import Optional

import torch
import torch.nn as nn


def multi_head_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, heads: int,
                         upcast: bool = False, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
    """q [B, N, H·d], k and v [B, M, H·d] -> [B, N, H·d]. `upcast` computes scores and softmax in
    float32 (diffusers' upcast_attention / upcast_softmax); probabilities return to v's dtype.
    `mask` (bool, True = hidden) broadcasts against the scores [B, H, N, M]."""
    head_dim = q.shape[-1] // heads
    scale = head_dim ** -0.5
    q, k, v = (x.unflatten(-1, (heads, head_dim)).transpose(1, 2) for x in (q, k, v))
    if upcast:
        q, k = q.float(), k.float()
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale
    if mask is not None:
        scores = scores.masked_fill(mask, float("-inf"))
    probs = scores.softmax(dim=-1).type_as(v)
    return torch.matmul(probs, v).transpose(1, 2).flatten(2)


class Attention(nn.Module):
    """diffusers' `Attention` as Stable Diffusion uses it (parameter names to_q, to_k, to_v,
    to_out.0): self-attention when `context` is None, else cross-attention."""

    def __init__(self, query_dim: int, heads: int, head_dim: int, context_dim: Optional[int] = None,
                 qkv_bias: bool = False, upcast: bool = False):
        super().__init__()
        inner = heads * head_dim
        context_dim = context_dim or query_dim
        self.heads = heads
        self.upcast = upcast
        self.to_q = nn.Linear(query_dim, inner, bias=qkv_bias)
        self.to_k = nn.Linear(context_dim, inner, bias=qkv_bias)
        self.to_v = nn.Linear(context_dim, inner, bias=qkv_bias)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim)])

    def forward(self, x: torch.Tensor, context: Optional[torch.Tensor] = None) -> torch.Tensor:
        context = x if context is None else context
        out = multi_head_attention(self.to_q(x), self.to_k(context), self.to_v(context), self.heads,
                                   self.upcast)
        return self.to_out[0](out)
