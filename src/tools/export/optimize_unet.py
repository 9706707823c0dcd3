#!/usr/bin/env python3
"""A copy of a pipeline directory whose unet.pt is frozen and optimised for inference, to measure whether
that is faster in the server's libtorch (docs/BENCHMARKS.md, "Frozen and optimised U-Nets").

Usage: /usr/bin/python3 src/tools/export/optimize_unet.py PIPELINE_DIR OUT_DIR [--no-optimize]

torch.jit.freeze inlines the module's parameters and attributes as constants (folding what depends only on
them); torch.jit.optimize_for_inference then fuses conv/batch-norm and add/relu patterns and, where MKL-DNN
is available, converts convolutions to it. The copy's outputs are checked against the original's on random
inputs at two batch sizes before it is written.
"""
import argparse
import json
import os
import shutil
import sys

import torch

from unet import guidance_scale_embedding


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline")
    parser.add_argument("out")
    parser.add_argument("--no-optimize", action="store_true", help="freeze only")
    args = parser.parse_args(argv)
    with open(os.path.join(args.pipeline, "pipeline.json"), encoding="utf-8") as f:
        spec = json.load(f)
    unet = torch.jit.load(os.path.join(args.pipeline, "unet.pt")).eval()
    frozen = torch.jit.freeze(unet)
    if not args.no_optimize:
        frozen = torch.jit.optimize_for_inference(frozen)

    channels = spec.get("unet_in_channels", spec["latent_channels"])
    side = spec["default_width"] // spec["vae_scale_factor"]
    text = torch.jit.load(os.path.join(args.pipeline, "text_encoder.pt")).eval()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for batch in (1, 4):
            ids = torch.full((batch, spec["text_max_length"]), spec["pad_token_id"], dtype=torch.int64)
            inputs = (torch.randn(batch, channels, side, side, generator=generator), torch.full((batch,), 500.0))
            if "pad_token_id_2" in spec:  # SDXL: both encoders' hidden states, the pooled embeddings, the time ids
                second = torch.jit.load(os.path.join(args.pipeline, "text_encoder_2.pt")).eval()
                hidden, pooled = second(torch.full_like(ids, spec["pad_token_id_2"]))
                size = [spec["default_height"], spec["default_width"]]
                inputs += (torch.cat([text(ids), hidden], dim=-1), pooled,
                           torch.tensor([size + [0, 0] + size] * batch, dtype=torch.float32))
            else:
                inputs += (text(ids),)
            if "time_cond_proj_dim" in spec:  # an LCM U-Net's 4th input, here for guidance scale 8.5
                inputs += (guidance_scale_embedding(torch.full((batch,), 7.5), spec["time_cond_proj_dim"]),)
            expected, actual = unet(*inputs), frozen(*inputs)
            error = ((actual - expected).abs().max() / expected.abs().max()).item()
            print(f"batch {batch}: max relative difference {error:.2e}")
            if error > 1e-4:
                print("the optimised U-Net does not compute what the original does", file=sys.stderr)
                return 1
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    shutil.copytree(args.pipeline, args.out)
    frozen.save(os.path.join(args.out, "unet.pt"))
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
