#!/usr/bin/env python3
"""Write linear_unet.pt: the stand-in U-Net of samplers.json as a TorchScript module with the U-Net's signature.

Usage: /usr/bin/python3 src/tools/reference/make_linear_unet.py [OUT_FILE]
       (default OUT_FILE: src/test/resources/reference/linear_unet.pt)

make_sampler_reference.py walks its trajectories with model_output = f32(a) * model_input + f32(b) *
f32(sin(double(t) / 100.0)). This module computes the same, with (a, b) read from encoder_hidden_states[:, 0, :2],
so that a test can run the production step (DenoisingImage + GuidedStep) against the reference, each row with
its own case's coefficients given as its text conditioning.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sampler_reference import model_fn  # noqa: E402

DEFAULT_OUT = os.path.join("src", "test", "resources", "reference", "linear_unet.pt")


class LinearUNet(torch.nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        a = encoder_hidden_states[:, 0, 0].reshape(-1, 1, 1, 1)
        b = encoder_hidden_states[:, 0, 1].reshape(-1, 1, 1, 1)
        shift = torch.sin(timestep.double() / 100.0).float().reshape(-1, 1, 1, 1)
        return a * sample + b * shift


def main(argv):
    out = argv[1] if len(argv) > 1 else DEFAULT_OUT
    module = torch.jit.script(LinearUNet())
    # checked against the reference's own function, at an integer and a fractional (Euler-ancestral) timestep
    sample = torch.randn(2, 2, 2, 2)
    rows = [(0.3, 0.02, 999.0), (-0.2, 0.05, 7.3751)]
    timesteps = torch.tensor([t for _, _, t in rows])
    got = module(sample, timesteps, torch.tensor([[[a, b]] for a, b, _ in rows]))
    want = torch.stack([model_fn(a, b, sample[i], timesteps[i]) for i, (a, b, _) in enumerate(rows)])
    if not torch.equal(got, want):
        raise RuntimeError("the module does not compute make_sampler_reference.model_fn")
    module.save(out)
    print("wrote", out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
