"""Finding a diffusers component's weight files and loading them strictly into a module."""

import json
import os
from typing import Callable, Dict, List, Optional

import torch
import torch.nn as nn

from safetensors_io import read_safetensors

# diffusers names its weights diffusion_pytorch_model.*, transformers model.* / pytorch_model.*
_STEMS = ("diffusion_pytorch_model", "model", "pytorch_model")


class CheckpointError(ValueError):
    """A checkpoint that cannot be exported; the message names the file and what is wrong."""


def weight_files(component_dir: str) -> List[str]:
    """The files holding one component's weights: safetensors before .bin, a plain file before a
    sharded one (`*.safetensors.index.json`), and a variant (`*.fp16.safetensors`) only when it is
    the sole candidate."""
    if not os.path.isdir(component_dir):
        raise CheckpointError(f"{component_dir}: missing component folder")
    names = set(os.listdir(component_dir))
    for ext in ("safetensors", "bin"):
        for stem in _STEMS:
            if f"{stem}.{ext}" in names:
                return [os.path.join(component_dir, f"{stem}.{ext}")]
            index = f"{stem}.{ext}.index.json"
            if index in names:
                return _shards(os.path.join(component_dir, index))
    variants = sorted(n for n in names if n.split(".")[0] in _STEMS
                      and (n.endswith(".safetensors") or n.endswith(".bin")))
    if len(variants) == 1:
        return [os.path.join(component_dir, variants[0])]
    if variants:
        raise CheckpointError(f"{component_dir}: several weight variants {variants}; keep one")
    raise CheckpointError(f"{component_dir}: no weights (expected one of "
                          f"{', '.join(s + '.safetensors' for s in _STEMS)} or .bin)")


def _shards(index_path: str) -> List[str]:
    with open(index_path, encoding="utf-8") as f:
        weight_map = json.load(f)["weight_map"]
    folder = os.path.dirname(index_path)
    return [os.path.join(folder, name) for name in sorted(set(weight_map.values()))]


def read_weights(path: str) -> Dict[str, torch.Tensor]:
    if path.endswith(".safetensors"):
        return read_safetensors(path)
    state = torch.load(path, map_location="cpu")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    return state


def load_strict(module: nn.Module, files: List[str], rename: Optional[Callable[[str], str]] = None,
                ignore: frozenset = frozenset()) -> None:
    """Copies every tensor into the module's parameter of the same name, converting the dtype,
    one tensor at a time (no second copy of the model). Any missing or unexpected name, or a shape
    that differs, is an error naming the key and the file."""
    targets = dict(module.named_parameters())
    targets.update(module.named_buffers())
    seen = set()
    unexpected, mismatched = [], []
    for path in files:
        for name, tensor in read_weights(path).items():
            key = rename(name) if rename else name
            if key in ignore:
                continue
            if key not in targets:
                unexpected.append(name)
                continue
            if tuple(tensor.shape) != tuple(targets[key].shape):
                mismatched.append(f"{name} {list(tensor.shape)} (expected {list(targets[key].shape)})")
                continue
            with torch.no_grad():
                targets[key].copy_(tensor)
            seen.add(key)
    missing = sorted(set(targets) - seen)
    where = files[0] if len(files) == 1 else f"{os.path.dirname(files[0])} ({len(files)} shards)"
    problems = []
    if missing:
        problems.append(f"missing keys: {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {', '.join(sorted(unexpected))}")
    if mismatched:
        problems.append(f"shape mismatch: {', '.join(mismatched)}")
    if problems:
        raise CheckpointError(f"{where}: weights do not match the architecture in config.json; "
                              + "; ".join(problems))


def read_config(component_dir: str) -> dict:
    path = os.path.join(component_dir, "config.json")
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
