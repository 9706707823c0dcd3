#!/usr/bin/env python3
"""A bare Python loop over a pipeline directory's .pt files: the yardstick for the server's own timings.

Usage: /usr/bin/python3 src/tools/bench/python_loop.py PIPELINE_DIR [PIPELINE_DIR ...] [--images 1 4 16]
           [--seconds 10] [--threads 1]

For each directory and batch size, runs the directory's default request (pipeline.json's steps, guidance
scale and sampler: DDIM with trailing spacing as the embedded scheduler config has it, or LCM) as one batch,
over and over for --seconds after a warm-up, and prints the median milliseconds per batch and per image:
text encoding, every step's U-Net call and update, VAE decoding. No HTTP, no queue, no PNG: what the same
network costs with nothing around it. Debian's torch 1.13 (the server runs libtorch 2.7.1 through DJL);
the process settings of src/training/procenv.py; one intra-op thread, as the server uses for these models.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "training"))
import procenv  # noqa: E402

if __name__ == "__main__":
    procenv.ensure()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import export as exporter  # noqa: E402
import models  # noqa: E402

PROMPT = "a red circle on a blue background"


class Pipeline:
    def __init__(self, directory: str):
        with open(os.path.join(directory, "pipeline.json")) as f:
            self.spec = json.load(f)
        with open(os.path.join(directory, "scheduler_config.json")) as f:
            self.sched = json.load(f)
        with open(os.path.join(directory, "tokenizer.json")) as f:
            self.tokenizer = json.load(f)
        self.text_encoder = torch.jit.load(os.path.join(directory, "text_encoder.pt")).eval()
        self.unet = torch.jit.load(os.path.join(directory, "unet.pt")).eval()
        self.decoder = torch.jit.load(os.path.join(directory, "vae_decoder.pt")).eval()
        self.alphas = exporter.alphas_cumprod(self.sched)
        self.steps = self.spec["default_steps"]
        self.guidance = self.spec["default_guidance_scale"]
        self.lcm = self.spec["default_sampler"] == "lcm"
        T = self.sched["num_train_timesteps"]
        if self.lcm:
            k = T // self.sched["original_inference_steps"]
            origin = (np.arange(1, self.sched["original_inference_steps"] + 1) * k - 1)[::-1]
            self.timesteps = [int(t) for t in origin[np.floor(np.linspace(0, len(origin), self.steps,
                                                                          endpoint=False)).astype(np.int64)]]
        else:
            assert self.spec["default_sampler"] == "ddim" and self.sched["timestep_spacing"] == "trailing"
            self.timesteps = [int(round(T - i * T / self.steps)) - 1 for i in range(self.steps)]

    def ids(self, text: str) -> list:
        return exporter.encode_with_tokenizer_json(self.tokenizer, text, self.spec["text_max_length"],
                                                   self.spec["pad_token_id"])

    @torch.no_grad()
    def generate(self, n: int, generator: torch.Generator) -> torch.Tensor:
        f = self.spec["vae_scale_factor"]
        shape = (n, self.spec["latent_channels"], self.spec["default_height"] // f, self.spec["default_width"] // f)
        guided = not self.lcm and self.guidance > 1
        texts = ([""] * n if guided else []) + [PROMPT] * n
        context = self.text_encoder(torch.tensor([self.ids(t) for t in texts]))
        x = torch.randn(shape, generator=generator)
        cond = None
        if self.lcm:
            cond = models.guidance_embedding(torch.full((n,), self.guidance - 1.0), self.spec["time_cond_proj_dim"])
        for i, t in enumerate(self.timesteps):
            a_t = self.alphas[t]
            if self.lcm:
                eps = self.unet(x, torch.full((n,), float(t)), context, cond)
                scaled = t * self.sched["timestep_scaling"]
                c_skip = 0.25 / (scaled ** 2 + 0.25)
                c_out = scaled / (scaled ** 2 + 0.25) ** 0.5
                x = c_out * (x - (1 - a_t).sqrt() * eps) / a_t.sqrt() + c_skip * x
                if i + 1 < len(self.timesteps):
                    a_next = self.alphas[self.timesteps[i + 1]]
                    x = a_next.sqrt() * x + (1 - a_next).sqrt() * torch.randn(shape, generator=generator)
            else:
                rows = torch.cat([x, x]) if guided else x
                eps = self.unet(rows, torch.full((rows.size(0),), float(t)), context)
                if guided:
                    eps = eps[:n] + self.guidance * (eps[n:] - eps[:n])
                prev = t - self.sched["num_train_timesteps"] // self.steps
                a_prev = self.alphas[prev] if prev >= 0 else torch.tensor(1.0)
                x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
                x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        return self.decoder(x / self.spec["scaling_factor"])


def median_ms(pipeline: Pipeline, n: int, seconds: float) -> float:
    generator = torch.Generator().manual_seed(0)
    for _ in range(2):
        pipeline.generate(n, generator)
    times = []
    end = time.time() + seconds
    while time.time() < end or len(times) < 3:
        start = time.perf_counter()
        pipeline.generate(n, generator)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("directories", nargs="+")
    ap.add_argument("--images", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-env", action="store_true", help="do not re-exec with the malloc settings")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    print("torch %s, %d intra-op thread(s), %d cores" % (torch.__version__, args.threads, os.cpu_count()))
    print("| model | request | images per batch | ms per batch | ms per image | images/s |")
    print("|---|---|---|---|---|---|")
    for directory in args.directories:
        pipeline = Pipeline(directory)
        request = "%d steps, guidance %g, %s" % (pipeline.steps, pipeline.guidance, pipeline.spec["default_sampler"])
        for n in args.images:
            ms = median_ms(pipeline, n, args.seconds)
            print("| %s | %s | %d | %.1f | %.1f | %.1f |" % (pipeline.spec["name"], request, n, ms, ms / n, 1000 * n / ms),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
