"""The safetensors file format, read and written without the safetensors package.

A file is: an 8-byte little-endian u64 N, N bytes of JSON header ({name: {dtype, shape,
data_offsets: [begin, end]}, optional "__metadata__": {str: str}}), then the raw little-endian
tensor bytes, offsets relative to the end of the header.
"""

import json
import mmap
import struct
import warnings
from typing import Dict, Optional

import numpy as np
import torch

# BF16 has no numpy dtype: its bytes are read as int16 and reinterpreted by torch.
_DTYPES = {
    "F64": (np.float64, torch.float64),
    "F32": (np.float32, torch.float32),
    "F16": (np.float16, torch.float16),
    "BF16": (np.int16, torch.bfloat16),
    "I64": (np.int64, torch.int64),
    "I32": (np.int32, torch.int32),
    "I16": (np.int16, torch.int16),
    "I8": (np.int8, torch.int8),
    "U8": (np.uint8, torch.uint8),
    "BOOL": (np.bool_, torch.bool),
}
_NAMES = {torch_dtype: name for name, (_, torch_dtype) in _DTYPES.items()}


def read_safetensors(path: str) -> Dict[str, torch.Tensor]:
    """Tensors backed by a read-only memory map of the file: nothing is copied until the caller
    copies a tensor into a parameter, so a 3.4 GB U-Net does not need 3.4 GB twice."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) != 8:
            raise ValueError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: not a safetensors file (header does not parse: {e})") from None
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    data = memoryview(mapped)[8 + n:]
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        np_dtype, torch_dtype = _DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        shape = tuple(info["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * np.dtype(np_dtype).itemsize or end > len(data):
            raise ValueError(f"{path}: tensor {name} has data_offsets {begin}..{end} that do not fit "
                             f"its shape {list(shape)} and dtype {info['dtype']}")
        array = np.frombuffer(data[begin:end], dtype=np.dtype(np_dtype).newbyteorder("<"), count=count)
        with warnings.catch_warnings():
            # the tensors are never written, so torch's warning about a read-only buffer is moot
            warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
            tensor = torch.from_numpy(array).reshape(shape)
        tensors[name] = tensor.view(torch_dtype) if torch_dtype == torch.bfloat16 else tensor
    return tensors


def write_safetensors(path: str, tensors: Dict[str, torch.Tensor],
                      metadata: Optional[Dict[str, str]] = None) -> None:
    """Compact JSON header padded with spaces to a multiple of 8, tensors sorted by dtype then name
    (the order the safetensors package writes). The header is computed from shapes and dtypes
    alone and the tensors are written one at a time, so a 3.4 GB U-Net needs no second copy of
    itself in memory."""
    order = sorted(tensors, key=lambda k: (_NAMES[tensors[k].dtype], k))
    header, offset = {}, 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in order:
        t = tensors[name]
        size = t.numel() * t.element_size()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + size]}
        offset += size
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for name in order:
            t = tensors[name].detach().contiguous().cpu()
            array = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy()
            f.write(array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes())
