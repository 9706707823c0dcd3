"""Paths and helpers shared by the exporter tests."""

import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORTER_DIR = os.path.dirname(HERE)
sys.path.insert(0, EXPORTER_DIR)
REPO = os.path.abspath(os.path.join(EXPORTER_DIR, "..", "..", ".."))
REFERENCE = os.path.join(REPO, "src", "test", "resources", "sd-reference")
EXPORTER = os.path.join(EXPORTER_DIR, "export_diffusers.py")
TOLERANCE = 1e-4  # max |out - ref| / max |ref|, as sd15-tiny/README.md suggests


def export(checkpoint: str, out: str, *options: str) -> str:
    """Runs the real command line; returns its stdout, fails with its output otherwise."""
    run = subprocess.run([sys.executable, EXPORTER, checkpoint, out, *options], capture_output=True, text=True)
    if run.returncode != 0:
        raise AssertionError(f"export failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    return run.stdout


def relative_error(out: torch.Tensor, ref: np.ndarray) -> float:
    ref = torch.from_numpy(ref)
    return float((out.float() - ref).abs().max() / ref.abs().max())


def read_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class GoldenChecks:
    """Mixin: every golden array of a reference folder against the exported .pt files."""
    reference: str
    out: str

    def load(self, name: str) -> torch.jit.ScriptModule:
        return torch.jit.load(os.path.join(self.out, name))

    def assert_close(self, out: torch.Tensor, name: str) -> None:
        ref = self.golden[name]
        self.assertEqual(tuple(out.shape), ref.shape, name)
        error = relative_error(out, ref)
        print(f"    {os.path.basename(self.reference)} {name}: max relative error {error:.2e}")
        self.assertLessEqual(error, TOLERANCE, name)

    def check_unet_cases(self, cases: str) -> None:
        unet = self.load("unet.pt")
        g = lambda k: torch.from_numpy(self.golden[k])
        with torch.no_grad():
            for case in cases:
                inputs = [g(f"unet.{case}.sample"), g(f"unet.{case}.timestep"),
                          g(f"unet.{case}.encoder_hidden_states")]
                if f"unet.{case}.timestep_cond" in self.golden:  # a guidance-embedded (LCM) U-Net
                    inputs.append(g(f"unet.{case}.timestep_cond"))
                out = unet(*inputs)
                self.assert_close(out, f"unet.{case}.out")

    def check_clip_skip(self, last_hidden_state: str) -> None:
        """clip_skip.npz (src/tools/reference/make_clip_skip_reference.py): diffusers' encode_prompt with
        clip_skip 1, row by row beside clip_skip 0 (the one-input call's last_hidden_state)."""
        skipped = np.load(os.path.join(self.reference, "clip_skip.npz"))
        ids = torch.from_numpy(skipped["input_ids"])
        rows = torch.arange(ids.shape[0]) % 2
        with torch.no_grad():
            out = self.load("text_encoder.pt")(ids, rows)
        expected = np.where(rows.numpy()[:, None, None] == 1, skipped["clip_skip_1"], self.golden[last_hidden_state])
        error = relative_error(out, expected)
        print(f"    {os.path.basename(self.reference)} clip_skip 1 / 0 by row: max relative error {error:.2e}")
        self.assertLessEqual(error, TOLERANCE)
        self.assertGreater(relative_error(out[1], self.golden[last_hidden_state][1]), 1e-3, "clip skip moves row 1")

    def check_vae(self) -> None:
        g = lambda k: torch.from_numpy(self.golden[k])
        decoder, encoder = self.load("vae_decoder.pt"), self.load("vae_encoder.pt")
        with torch.no_grad():
            self.assert_close(decoder(g("vae.decode.z")), "vae.decode.out")
            self.assert_close(decoder(g("vae.decode2.z")), "vae.decode2.out")
            self.assert_close(encoder(g("vae.encode.x")), "vae.encode.mean")
