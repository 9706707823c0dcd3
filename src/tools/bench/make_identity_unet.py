#!/usr/bin/env python3
"""Write identity_unet.pt: a TorchScript module with the U-Net's signature that returns its sample.

The benchmark times it to measure what one U-Net call costs through DJL apart from the network itself
(JNI, IValue conversion, tensor bookkeeping).

Usage: /usr/bin/python3 src/tools/bench/make_identity_unet.py OUT_FILE
"""
import sys

import torch


class IdentityUNet(torch.nn.Module):
    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor) -> torch.Tensor:
        return sample


if __name__ == "__main__":
    torch.jit.script(IdentityUNet()).save(sys.argv[1])
