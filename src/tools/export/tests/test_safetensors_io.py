"""The safetensors reader and writer against the format's definition."""

import json
import os
import struct
import tempfile
import unittest

import torch

import support  # noqa: F401  (puts the exporter on sys.path)
from safetensors_io import read_safetensors, write_safetensors


class SafetensorsFormat(unittest.TestCase):
    def test_round_trip_of_every_dtype_bit_for_bit(self):
        g = torch.Generator().manual_seed(1)
        tensors = {
            "f32": torch.randn(3, 5, generator=g),
            "f16": torch.randn(7, generator=g).half(),
            "bf16": torch.randn(2, 2, 2, generator=g).bfloat16(),
            "i64": torch.arange(-3, 9).reshape(3, 4),
            "scalar": torch.tensor(2.5),
            "empty": torch.zeros(0, 4),
        }
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "t.safetensors")
            write_safetensors(path, tensors, {"format": "pt"})
            back = read_safetensors(path)
            with open(path, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                header = json.loads(f.read(n))
        self.assertEqual(n % 8, 0)
        self.assertEqual(header["__metadata__"], {"format": "pt"})
        self.assertEqual(header["bf16"]["dtype"], "BF16")
        self.assertEqual(set(back), set(tensors))
        for name, t in tensors.items():
            self.assertEqual(back[name].dtype, t.dtype, name)
            self.assertEqual(back[name].shape, t.shape, name)
            self.assertTrue(torch.equal(back[name], t), name)

    def test_reads_the_reference_checkpoint(self):
        path = os.path.join(support.REFERENCE, "sd15-tiny", "checkpoint", "unet",
                            "diffusion_pytorch_model.safetensors")
        tensors = read_safetensors(path)
        self.assertEqual(len(tensors), 682)
        self.assertEqual(tuple(tensors["conv_in.weight"].shape), (32, 4, 3, 3))

    def test_rejects_a_file_whose_offsets_do_not_fit(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bad.safetensors")
            header = json.dumps({"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}).encode()
            with open(path, "wb") as f:
                f.write(struct.pack("<Q", len(header)) + header + bytes(8))
            with self.assertRaisesRegex(ValueError, "x has data_offsets"):
                read_safetensors(path)


if __name__ == "__main__":
    unittest.main()
