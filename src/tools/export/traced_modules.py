"""Tracing the eager modules to TorchScript, checking the saved graphs, and the float16 variant.

float16: the graph is traced in float32 on the CPU (float16 convolutions do not run on a torch
1.13 CPU) inside `HalfPrecisionIO`, then the traced module's weights are cast with `.half()`. That
is sound only if no dtype was frozen into the graph, so the modules never read `x.dtype` (they use
`type_as`), and `float32_constants` inspects the saved graph for float32 tensor constants.
"""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn


class HalfPrecisionIO(nn.Module):
    """Casts the float inputs flagged in `cast` to the weights' dtype and returns float32, so the
    server feeds and receives float32 whatever the export dtype. The U-Net's timestep stays
    float32: its sinusoidal embedding is computed in float32, as in diffusers."""

    def __init__(self, inner: nn.Module, cast: Sequence[bool]):
        super().__init__()
        self.inner = inner
        self.cast = tuple(cast)

    def forward(self, *inputs: torch.Tensor):
        weight = next(self.inner.parameters())
        args = [x.type_as(weight) if c else x for x, c in zip(inputs, self.cast)]
        out = self.inner(*args)
        return tuple(o.float() for o in out) if isinstance(out, tuple) else out.float()


class _OptionalClipSkip(nn.Module):
    """A traced text encoder of (input_ids, clip_skip) called as the contract's text encoder: with
    input_ids alone it is clip_skip 0 for every row. Tracing fixes the number of inputs; this scripted
    forward gives the second its default."""

    def __init__(self, traced: torch.jit.ScriptModule):
        super().__init__()
        self.encoder = traced

    def forward(self, input_ids: torch.Tensor, clip_skip: Optional[torch.Tensor] = None):
        if clip_skip is None:
            clip_skip = torch.zeros_like(input_ids[:, 0])
        return self.encoder(input_ids, clip_skip)


def optional_clip_skip(traced: torch.jit.ScriptModule) -> torch.jit.ScriptModule:
    return torch.jit.script(_OptionalClipSkip(traced))


def trace(module: nn.Module, example: Tuple[torch.Tensor, ...]) -> torch.jit.ScriptModule:
    with torch.no_grad():
        return torch.jit.trace(module.eval(), example, check_trace=False)


def float32_constants(module: torch.jit.ScriptModule) -> List[str]:
    """Float32 tensor constants frozen into the graph; in a float16 module any of them would meet
    float16 tensors (promotion or a dtype error on the GPU)."""
    found = []

    def visit(block):
        for node in block.nodes():
            if node.kind() == "prim::Constant" and node.output().type().kind() == "TensorType":
                value = node.t("value")
                if value.dtype == torch.float32:
                    found.append(f"{list(value.shape)} {str(node).strip()[:120]}")
            for sub in node.blocks():
                visit(sub)

    visit(module.inlined_graph)
    return found


def float32_casts(module: torch.jit.ScriptModule) -> int:
    """How many explicit casts to float32 (aten::to with dtype 6) the graph holds: in a float16
    U-Net these are the timestep embedding, the float32 output and, with upcast_attention, the
    attention scores — all intended."""
    count = 0
    for node in module.inlined_graph.nodes():
        if node.kind() == "aten::to":
            dtype = list(node.inputs())[1].node()
            if dtype.kind() == "prim::Constant" and dtype.output().type().kind() == "IntType" \
                    and dtype.i("value") == 6:
                count += 1
    return count


def relative_error(out, ref) -> float:
    """max |out - ref| / max |ref|, the largest over the tensors of a tuple output."""
    if isinstance(ref, tuple):
        return max(relative_error(o, r) for o, r in zip(out, ref))
    return float((out.float() - ref.float()).abs().max() / ref.float().abs().max().clamp_min(1e-30))


@torch.no_grad()
def outputs(module: nn.Module, cases: Dict[str, Tuple[torch.Tensor, ...]]) -> Dict[str, object]:
    """The module's output per named input case."""
    return {name: module(*inputs) for name, inputs in cases.items()}


@torch.no_grad()
def compare(saved: torch.jit.ScriptModule, expected: Dict[str, object],
            cases: Dict[str, Tuple[torch.Tensor, ...]]) -> Dict[str, float]:
    """max |saved - expected| / max |expected| per named input case."""
    return {name: relative_error(saved(*inputs), expected[name]) for name, inputs in cases.items()}
