#!/usr/bin/env python3
"""Measure the default model's speeds on this machine and project train.py's wall time.

Usage:
    /usr/bin/python3 src/training/bench.py [--workers 2] [--threads 1] [--no-env]

1. Inference, as the server runs it: the U-Net at batch 2 (one guided denoising step of one image)
   and the VAE decoder at batch 1, on 1 and 2 threads (best of 3 rounds of 20 calls).
2. Training: runs train.py itself on a scratch work dir (4096 images, 80 steps per stage) with
   the given --workers/--threads, reads the samples/s it logs (the first interval is warm-up),
   and projects the wall time of every stage of the default configuration.
--no-env measures both without the malloc settings of procenv.py.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procenv  # noqa: E402

if __name__ == "__main__":
    procenv.ensure()

import torch  # noqa: E402

import models  # noqa: E402
import train  # noqa: E402


def best(fn, repeats: int, inner: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return min(times)


def inference() -> None:
    cfg = train.CONFIG
    vae, text_encoder, unet = train.new_modules(cfg)
    print("params: vae encoder %d, vae decoder %d, text encoder %d, unet %d, total %d"
          % tuple([models.count_params(m) for m in (vae.encoder, vae.decoder, text_encoder, unet)]
                  + [sum(models.count_params(m) for m in (vae, text_encoder, unet))]))
    f = 2 ** (len(cfg["vae_channels"]) - 1)
    s_unet = torch.jit.script(unet.eval())
    s_dec = torch.jit.script(models.VaeDecoderExport(vae.decoder).eval())
    s_text = torch.jit.script(text_encoder.eval())
    x = torch.randn(2, cfg["latent_channels"], 64 // f, 64 // f)
    t = torch.tensor([999.0, 999.0])
    ids = torch.zeros(2, cfg["text_max_length"], dtype=torch.int64)
    with torch.no_grad():
        ctx = s_text(ids)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            u = best(lambda: s_unet(x, t, ctx), 3, 20)
            d = best(lambda: s_dec(x[:1]), 3, 10)
            e = best(lambda: s_text(ids), 3, 10)
            print("inference on %d thread(s): U-Net batch 2 %.2f ms (20 steps: %.0f ms); VAE decoder "
                  "batch 1 %.2f ms; text encoder batch 2 %.2f ms" % (threads, 1000 * u, 20000 * u,
                                                                      1000 * d, 1000 * e))


def training(workers: int, threads: int, no_env: bool) -> None:
    work = tempfile.mkdtemp(prefix="stipple-bench-")
    steps = 80
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "train.py"),
           "--work-dir", work, "--workers", str(workers), "--threads", str(threads),
           "--num-images", "4096", "--holdout-images", "64", "--vae1-steps", str(steps),
           "--vae2-steps", str(steps), "--unet-steps", str(steps), "--log-every", "20",
           "--stop-after", "unet"] + (["--no-env"] if no_env else [])
    try:
        start = time.time()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        wall = time.time() - start
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rates, cpu_rates = {}, {}
    for stage in ("vae1", "vae2", "unet"):
        found = re.findall(r"%s step \d+/\d+ .*?\| ([\d.]+) samples/s \(([\d.]+) by" % stage, out)
        rates[stage] = max(float(w) for w, _ in found[1:])        # the first interval is warm-up
        cpu_rates[stage] = max(float(c) for _, c in found[1:])
    data_s = float(re.search(r"stage data done in [\d.]+ min \(([\d.]+) s\)", out).group(1)) / 4096
    lat = float(re.search(r"stage latents done in [\d.]+ min \(([\d.]+) s\)", out).group(1)) / (4096 + 64)
    cfg = train.CONFIG
    minutes = {
        "data": cfg["num_images"] * data_s / 60,
        "vae1": cfg["vae1_steps"] * cfg["vae_batch"] / rates["vae1"] / 60,
        "vae2": cfg["vae2_steps"] * cfg["vae_batch"] / rates["vae2"] / 60,
        "latents": (cfg["num_images"] + cfg["holdout_images"]) * lat / 60,
        "unet": cfg["unet_steps"] * cfg["unet_batch"] / rates["unet"] / 60,
        "finetune": cfg["finetune_steps"] * cfg["unet_batch"] / rates["unet"] / 60,
        "export": 1.0,
    }
    print("training on %d worker(s) x %d thread(s)%s (scratch run %.0f s):"
          % (workers, threads, " without the malloc settings" if no_env else "", wall))
    for stage in ("vae1", "vae2", "unet"):
        print("  %-5s %6.1f samples/s (%.1f by worker 0's CPU time, i.e. without other load)"
              % (stage, rates[stage], cpu_rates[stage]))
    print("  data %.2f ms/image, latents %.2f ms/image (both stages at small scale: pessimistic)"
          % (1000 * data_s, 1000 * lat))
    print("projected for the default configuration: %s; total %.1f min"
          % (", ".join("%s %.1f" % kv for kv in minutes.items()), sum(minutes.values())))
    for stage in ("vae1", "vae2", "unet"):
        minutes[stage] *= rates[stage] / cpu_rates[stage]
    print("... at the CPU-time rates (no other load): %s; total %.1f min"
          % (", ".join("%s %.1f" % kv for kv in minutes.items()), sum(minutes.values())))


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-env", action="store_true")
    ap.add_argument("--inference-only", action="store_true")
    args = ap.parse_args(argv)
    print("env: %s" % {k: os.environ.get(k) for k in procenv.MALLOC_ENV})
    inference()
    if not args.inference_only:
        training(args.workers, args.threads, args.no_env)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
