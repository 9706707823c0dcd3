"""--dtype float16: traced in float32, weights cast to float16, no float32 constants left in the
graphs. Numerically unverified here: float16 convolutions do not run on a torch 1.13 CPU (the
exporter itself compares the graph with the eager model in bfloat16)."""

import os
import shutil
import tempfile
import unittest
import warnings

import torch

from support import REFERENCE, export
from traced_modules import float32_casts, float32_constants, trace


class Float16Export(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        cls.outs = {}
        for family in ("sd15-tiny", "sd2-tiny", "lcm-tiny", "sdxl-tiny"):
            out = os.path.join(cls.tmp, family)
            export(os.path.join(REFERENCE, family, "checkpoint"), out, "--dtype", "float16")
            cls.outs[family] = out

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_weights_are_float16_and_no_float32_constants(self):
        for family, out in self.outs.items():
            for name in [n for n in os.listdir(out) if n.endswith(".pt")]:
                module = torch.jit.load(os.path.join(out, name))
                # SDXL's VAE config says force_upcast: float16 overflows in it, diffusers decodes in float32
                upcast = family == "sdxl-tiny" and name.startswith("vae_")
                dtypes = {p.dtype for p in module.parameters()}
                self.assertEqual(dtypes, {torch.float32 if upcast else torch.float16}, f"{family} {name}")
                self.assertEqual(float32_constants(module), [], f"{family} {name}")
        self.assertIn("text_encoder_2.pt", os.listdir(self.outs["sdxl-tiny"]))

    def test_outputs_are_float32(self):
        out = self.outs["sdxl-tiny"]
        ids = torch.zeros(2, 77, dtype=torch.int64)
        with torch.no_grad():
            hidden, pooled = torch.jit.load(os.path.join(out, "text_encoder_2.pt")).to(torch.bfloat16)(ids)
        self.assertEqual((hidden.dtype, pooled.dtype), (torch.float32, torch.float32))

    def test_float32_casts_are_the_intended_ones(self):
        # timestep embedding + output; upcast_attention adds q and k of every attention
        sd15 = torch.jit.load(os.path.join(self.outs["sd15-tiny"], "unet.pt"))
        self.assertEqual(float32_casts(sd15), 2)
        sd2 = torch.jit.load(os.path.join(self.outs["sd2-tiny"], "unet.pt"))
        self.assertGreater(float32_casts(sd2), 2)
        # the guidance embedding is cast to float16 with the sample, as diffusers' LCM pipeline does
        lcm = torch.jit.load(os.path.join(self.outs["lcm-tiny"], "unet.pt"))
        self.assertEqual(float32_casts(lcm), 2)
        # and the time ids' embedding, in float32 like the timestep's (diffusers computes it from float time ids)
        sdxl = torch.jit.load(os.path.join(self.outs["sdxl-tiny"], "unet.pt"))
        self.assertEqual(float32_casts(sdxl), 3)

    def test_the_check_finds_a_float32_constant(self):
        class Offset(torch.nn.Module):
            def forward(self, x):
                return x + torch.tensor([0.5, 1.5])

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)  # the very constant it warns about
            found = float32_constants(trace(Offset(), (torch.zeros(2),)))
        self.assertEqual(len(found), 1, found)


if __name__ == "__main__":
    unittest.main()
