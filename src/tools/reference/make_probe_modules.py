#!/usr/bin/env python3
"""Write the probe modules through which tests run production code against the references in this folder.

Usage: /usr/bin/python3 src/tools/reference/make_probe_modules.py [OUT_DIR]
       (default OUT_DIR: src/test/resources/reference)

- linear_unet.pt: make_sampler_reference.py's stand-in U-Net, model_output = f32(a) * model_input + f32(b) *
  f32(sin(double(t) / 100.0)), with the U-Net's signature and (a, b) read from encoder_hidden_states[:, 0, :2],
  so that DenoisingImage + GuidedStep walk samplers.json's cases, each row with its case's coefficients given as
  its text conditioning.
- identity_vae_encoder.pt: a VAE encoder that returns its input, so that ImageEncoder's pixels can be compared
  with what diffusers' inpaint pipeline hands its VAE (make_inpaint_inputs_reference.py).
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_sampler_reference import model_fn  # noqa: E402

DEFAULT_OUT = os.path.join("src", "test", "resources", "reference")


class LinearUNet(torch.nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        a = encoder_hidden_states[:, 0, 0].reshape(-1, 1, 1, 1)
        b = encoder_hidden_states[:, 0, 1].reshape(-1, 1, 1, 1)
        shift = torch.sin(timestep.double() / 100.0).float().reshape(-1, 1, 1, 1)
        return a * sample + b * shift


class IdentityEncoder(torch.nn.Module):
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return pixels


def linear_unet() -> torch.jit.ScriptModule:
    module = torch.jit.script(LinearUNet())
    # checked against the reference's own function, at an integer and a fractional (Euler-ancestral) timestep
    sample = torch.randn(2, 2, 2, 2)
    rows = [(0.3, 0.02, 999.0), (-0.2, 0.05, 7.3751)]
    timesteps = torch.tensor([t for _, _, t in rows])
    got = module(sample, timesteps, torch.tensor([[[a, b]] for a, b, _ in rows]))
    want = torch.stack([model_fn(a, b, sample[i], timesteps[i]) for i, (a, b, _) in enumerate(rows)])
    if not torch.equal(got, want):
        raise RuntimeError("the module does not compute make_sampler_reference.model_fn")
    return module


def main(argv):
    out = argv[1] if len(argv) > 1 else DEFAULT_OUT
    for name, module in (("linear_unet.pt", linear_unet()),
                         ("identity_vae_encoder.pt", torch.jit.script(IdentityEncoder()))):
        module.save(os.path.join(out, name))
        print("wrote", os.path.join(out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
