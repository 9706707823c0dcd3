#!/usr/bin/env python3
"""Train Stipple's default model from scratch and export it as a pipeline directory.

Usage:
    /usr/bin/python3 src/training/train.py --work-dir /tmp/stipple-train \\
        --out src/main/resources/stipple/default-model

Stages, each resumed from its last checkpoint in --work-dir when the command is run again:
  data     the captioned-shapes images (shapes.py scenes, seed --seed; holdout: seed --seed + 1)
  vae1     KL-VAE: L1 + KL
  vae2     decoder only, encoder frozen: edge-weighted L1 + MSE
  latents  encode the dataset (posterior mean and std); scaling_factor = 1 / std of the latents;
           the VAE's reconstruction PSNR on the holdout images
  unet     text encoder + U-Net jointly: epsilon prediction on the scaled_linear schedule,
           min-SNR-5 weighting, caption dropout to the empty prompt, EMA
  export   the pipeline directory (export.py), and samples.png in the work dir

The training stages run data-parallel in --workers processes of --threads threads each (on two
cores two single-threaded processes are 1.4x faster than one two-threaded process: the U-Net's
ops are too small to split well). Every random draw is a function of (seed, stage, step), data
order included, and every batch is drawn whole and then split between the workers, so a resumed
run continues exactly as the interrupted one would have (bit for bit with the same --workers,
--threads and machine). See src/training/README.md.
"""

import argparse
import ctypes
import datetime
import functools
import hashlib
import json
import math
import os
import random
import signal
import sys
import time
from typing import List, Optional, Tuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procenv  # noqa: E402

if __name__ == "__main__":
    procenv.ensure()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import data  # noqa: E402
import export as exporter  # noqa: E402
import models  # noqa: E402
import shapes  # noqa: E402

# Everything that changes the trained weights. A work dir remembers the config it was started
# with and refuses to resume with another (use a new work dir, or --restart).
CONFIG = {
    "seed": 0,
    "num_images": 100_000,
    "holdout_images": 512,
    # VAE: f = 4 (three levels), 16x16x4 latents for 64x64 images
    "vae_channels": [32, 64, 64],
    "latent_channels": 4,
    "vae_encoder_blocks": 1,
    "vae_decoder_blocks": 1,
    "vae_batch": 16,
    "vae_lr": 1e-3,
    "vae1_steps": 3000,
    "vae2_steps": 2000,
    "kl_weight": 1e-6,
    "edge_weight": 4.0,
    # text encoder
    "text_dim": 128,
    "text_layers": 2,
    "text_heads": 4,
    "text_max_length": 16,
    # U-Net on 16x16 latents: levels 16x16 / 8x8 / 4x4
    "unet_channels": [32, 64, 112],
    "unet_blocks": [1, 2, 2],
    "unet_attention": ["none", "cross", "self+cross"],
    "unet_heads": 4,
    "unet_ff_mult": 2,
    "unet_batch": 64,
    "unet_lr": 3e-4,
    "unet_warmup": 500,
    "unet_steps": 12500,
    "ema_decay": 0.999,
    "min_snr_gamma": 5.0,
    "caption_dropout": 0.1,
    # fine-tuning on a mix that shows two-object scenes more often: after "unet" alone the two
    # objects' colors were swapped in a third of two-object images (shapes and places were right)
    "finetune_steps": 5000,
    "finetune_lr": 1e-4,
    "finetune_warmup": 200,
    "finetune_two_object_repeats": 2,
}

MALLOC_ENV = procenv.MALLOC_ENV
ENCODE_BATCH = 32       # small enough that activations stay below the mmap threshold
STAGES = ("data", "vae1", "vae2", "latents", "unet", "finetune", "export")
SAMPLE_PROMPTS = [
    "a red circle on a blue background",
    "a small yellow square on the left on a black background",
    "a large green triangle on a white background",
    "a purple circle at the top on a orange background",
    "a blue square and a red triangle on a white background",
    "a white triangle and a black circle on a gray background",
    "a orange square at the bottom on a green background",
    "a tiny grey disk in the centre, violet background",
]


class Interrupted(Exception):
    pass


class Run:
    """The work dir: config, state.json (finished stages, metrics), checkpoints and the log.
    Only worker 0 (the main process) writes to it."""

    def __init__(self, work_dir: str, config: dict, workers: int = 1, threads: int = 1,
                 checkpoint_minutes: float = 5.0, checkpoint_steps: int = 0, log_every: int = 100,
                 rank: int = 0):
        self.work_dir = work_dir
        self.config = config
        self.workers = workers
        self.threads = threads
        self.checkpoint_seconds = checkpoint_minutes * 60.0
        self.checkpoint_steps = checkpoint_steps
        self.log_every = log_every
        self.rank = rank
        self.stop_requested = False
        self.state_path = os.path.join(work_dir, "state.json")
        self.state = {"done": {}, "metrics": {}}
        self.log_file = None
        if rank == 0:
            os.makedirs(work_dir, exist_ok=True)
            self.log_file = open(os.path.join(work_dir, "train.log"), "a", buffering=1)
            if os.path.exists(self.state_path):
                with open(self.state_path) as f:
                    self.state = json.load(f)

    def log(self, message: str) -> None:
        if self.rank != 0:
            return
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + message
        print(line, flush=True)
        self.log_file.write(line + "\n")

    def path(self, name: str) -> str:
        return os.path.join(self.work_dir, name)

    def save_state(self) -> None:
        atomic_write_json(self.state_path, self.state)

    def done(self, stage: str) -> bool:
        return stage in self.state["done"]

    def finish(self, stage: str, seconds: float, **metrics) -> None:
        self.state["done"][stage] = {"seconds": round(seconds, 1)}
        self.state["metrics"].update(metrics)
        self.save_state()
        self.log("stage %s done in %.1f min (%.1f s)" % (stage, seconds / 60, seconds))


def atomic_write_json(path: str, obj) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_save(obj, path: str) -> None:
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def step_seed(seed: int, stage: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, stage, step]).generate_state(1, np.uint64)[0])


def rng_states() -> dict:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])


@functools.lru_cache(maxsize=4)
def _permutation(seed: int, stage: int, n: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, stage, 1_000_000 + epoch]).permutation(n)


def epoch_indices(seed: int, stage: int, n: int, start: int, count: int) -> np.ndarray:
    """Positions start .. start+count-1 of the stream that visits the n examples in a fresh
    permutation each epoch (the permutation of epoch e is drawn from (seed, stage, e))."""
    positions = np.arange(start, start + count)
    epochs, offsets = np.divmod(positions, n)
    out = np.empty(count, np.int64)
    for epoch in np.unique(epochs):
        mask = epochs == epoch
        out[mask] = _permutation(seed, stage, n, int(epoch))[offsets[mask]]
    return out


def cosine_lr(step: int, total: int, base: float, warmup: int, floor: float = 0.1) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def cpu_rate(samples: int, cpu_seconds: float, threads: int) -> float:
    """Samples/s the interval would have reached had worker 0 had its cores to itself (its CPU
    time spread over its threads): what to expect on a machine without other load."""
    return samples * threads / max(cpu_seconds, 1e-9)


def to_image_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W] in [-1, 1]."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


# ----------------------------------------------------------------------------------------------
# data parallelism

class Workers:
    """Synchronous data parallelism over `world` processes (gloo): each computes the gradient of
    its equal share of the batch; sync() sums gradients (divided by world) together with a few
    scalars: the loss and worker 0's decisions to checkpoint and to stop. Worker 0 is the main
    process; the others are started per stage by spawn() and exit with it."""

    def __init__(self, rank: int = 0, world: int = 1):
        self.rank = rank
        self.world = world

    def share(self, batch: int) -> slice:
        if batch % self.world:
            raise ValueError(f"batch {batch} does not split between {self.world} workers")
        part = batch // self.world
        return slice(self.rank * part, (self.rank + 1) * part)

    def sync(self, params: List[torch.Tensor], scalars: List[float]) -> List[float]:
        if self.world == 1:
            return scalars
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads] + [torch.tensor(scalars, dtype=torch.float32)])
        dist.all_reduce(flat)
        offset = 0
        for p, g in zip(params, grads):
            n = g.numel()
            p.grad = flat[offset:offset + n].view_as(g).div_(self.world)
            offset += n
        return flat[offset:].tolist()

    def broadcast(self, tensors: List[torch.Tensor]) -> None:
        if self.world > 1:
            with torch.no_grad():
                for t in tensors:
                    dist.broadcast(t, 0)


def start_helpers(run: Run, stage: str, args: dict, helper_main=None):
    """Worker 0's side: start workers 1 .. world-1 for `stage` and join the process group. The
    workers run helper_main (default: this file's stages) with the same arguments as _helper_main."""
    world = run.workers
    if world == 1:
        return Workers(), [], None
    import multiprocessing
    init_file = run.path("dist-%s-%d" % (stage, os.getpid()))
    if os.path.exists(init_file):
        os.remove(init_file)
    ctx = multiprocessing.get_context("spawn")
    procs = []
    for rank in range(1, world):
        p = ctx.Process(target=helper_main or _helper_main, daemon=True,
                        args=(rank, world, init_file, run.work_dir, run.config, run.threads, stage, args))
        p.start()
        procs.append(p)
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=0, world_size=world,
                            timeout=datetime.timedelta(minutes=10))
    return Workers(0, world), procs, init_file


def stop_helpers(procs: list, init_file: Optional[str]) -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
    for p in procs:
        p.join(timeout=60)
        if p.is_alive():
            p.kill()
    if init_file and os.path.exists(init_file):
        os.remove(init_file)


def join_as_helper(rank, world, init_file, work_dir, config, threads, args) -> Run:
    """A helper process's set-up: dies with worker 0, leaves signals to it, joins the group."""
    try:  # die with the main process (PR_SET_PDEATHSIG), even when it is killed
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    torch.set_num_threads(threads)
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank, world_size=world,
                            timeout=datetime.timedelta(minutes=10))
    return Run(work_dir, config, rank=rank, **args)


def _helper_main(rank, world, init_file, work_dir, config, threads, stage, args) -> None:
    """Workers 1 .. world-1: load what `stage` needs from the work dir and train in lockstep with
    worker 0, which alone checkpoints, logs and decides when to stop."""
    run = join_as_helper(rank, world, init_file, work_dir, config, threads, args)
    vae, text_encoder, unet = new_modules(config)
    workers = Workers(rank, world)
    try:
        if stage in ("vae1", "vae2"):
            with np.load(run.path("data.npz")) as z:
                images = z["images"]
            if stage == "vae2":
                vae.load_state_dict(torch.load(run.path("vae1.pt"))["vae"])
            train_vae(run, vae, images, stage, workers)
        elif stage in ("unet", "finetune"):
            with open(run.path("captions.json")) as f:
                captions = json.load(f)
            z = torch.load(run.path("latents.pt"))
            if stage == "finetune":
                load_denoiser(run, "unet", text_encoder, unet)
            train_unet(run, stage, text_encoder, unet, captions, z["mean"], z["std"], z["scaling_factor"],
                       workers)
    except Interrupted:
        pass
    finally:
        dist.destroy_process_group()


def new_modules(config: dict):
    torch.manual_seed(config["seed"])
    return exporter.build_modules(config, len(data.build_vocab()))


# ----------------------------------------------------------------------------------------------
# stages

def stage_data(run: Run):
    """Images of the training set and the holdout set, cached in the work dir."""
    cfg = run.config
    path = run.path("data.npz")
    if run.done("data") and os.path.exists(path):
        with np.load(path) as z:
            images, holdout = z["images"], z["holdout"]
        with open(run.path("captions.json")) as f:
            captions = json.load(f)
        return images, captions, holdout
    start = time.time()
    run.log("data: rendering %d training images (seed %d) and %d holdout images (seed %d)"
            % (cfg["num_images"], cfg["seed"], cfg["holdout_images"], cfg["seed"] + 1))
    images, meta = data.generate(cfg["seed"], cfg["num_images"], processes=run.workers * run.threads)
    holdout, _ = data.generate(cfg["seed"] + 1, cfg["holdout_images"], processes=1)
    captions = [[c, p] for c, p, _ in meta]
    digest = hashlib.sha256(images.tobytes()).hexdigest()[:16]
    tmp = path + ".tmp.npz"
    np.savez(tmp, images=images, holdout=holdout)
    os.replace(tmp, path)
    atomic_write_json(run.path("captions.json"), captions)
    run.log("data: %d images, sha256 %s" % (len(images), digest))
    run.finish("data", time.time() - start, data_sha256_16=digest)
    return images, captions, holdout


def edge_weights(target: torch.Tensor, weight: float) -> torch.Tensor:
    """1 + weight where the target image changes within a pixel's 3x3 neighbourhood."""
    high = F.max_pool2d(target, 3, stride=1, padding=1)
    low = -F.max_pool2d(-target, 3, stride=1, padding=1)
    edge = ((high - low).amax(dim=1, keepdim=True) > 0.02).float()
    return 1.0 + weight * edge


def checkpoint_due(run: Run, step: int, last: float) -> bool:
    """Worker 0's decision, after `step` steps, to checkpoint (and, when asked to, stop)."""
    return bool(run.stop_requested or (run.checkpoint_steps and step % run.checkpoint_steps == 0)
                or time.time() - last >= run.checkpoint_seconds)


def train_vae(run: Run, vae: models.AutoencoderKL, images: np.ndarray, stage: str,
              workers: Workers) -> None:
    cfg = run.config
    second = stage == "vae2"
    stage_id = 12 if second else 11
    total = cfg["vae2_steps" if second else "vae1_steps"]
    base_lr = cfg["vae_lr"] * (0.3 if second else 1.0)
    params = list(vae.decoder.parameters()) if second else list(vae.parameters())
    for p in vae.encoder.parameters():
        p.requires_grad_(not second)
    opt = torch.optim.Adam(params, lr=base_lr)
    ckpt_path = run.path(stage + ".ckpt")
    step, elapsed = 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        vae.load_state_dict(ck["vae"])
        opt.load_state_dict(ck["opt"])
        set_rng_states(ck["rng"])
        step, elapsed = ck["step"], ck["elapsed"]
        run.log("%s: resumed at step %d/%d" % (stage, step, total))
    workers.broadcast(list(vae.state_dict().values()))
    bs = cfg["vae_batch"]
    mine = workers.share(bs)
    n = len(images)
    t0 = last_ckpt = last_log = time.time()
    last_cpu = time.process_time()
    log_loss = log_mse = 0.0
    log_n = 0
    vae.train()
    while step < total:
        # the whole batch's draws, then this worker's share
        idx = epoch_indices(cfg["seed"], stage_id, n, step * bs, bs)
        g = torch.Generator().manual_seed(step_seed(cfg["seed"], stage_id, step))
        flip = (torch.rand(bs, generator=g) < 0.5)[mine]
        f = 2 ** (len(cfg["vae_channels"]) - 1)
        noise = torch.randn(bs, cfg["latent_channels"], 64 // f, 64 // f, generator=g)[mine]
        x = to_image_tensor(images[idx[mine]])
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, total, base_lr, 200)
        if second:
            with torch.no_grad():
                mean, logvar = vae.encode(x)
            rec = vae.decoder(mean + torch.exp(0.5 * logvar) * noise)
            w = edge_weights(x, cfg["edge_weight"])
            err = rec - x
            loss = ((w * err.abs()).mean() + (w * err.pow(2)).mean()) / w.mean()
        else:
            rec, mean, logvar = vae(x, noise)
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).mean()
            loss = (rec - x).abs().mean() + cfg["kl_weight"] * kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        want = checkpoint_due(run, step + 1, last_ckpt) if workers.rank == 0 else False
        total_loss, mse, ckpt, stop = workers.sync(params, [float(loss), float((rec.detach() - x).pow(2).mean()),
                                                           float(want), float(run.stop_requested)])
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        log_loss += total_loss / workers.world
        log_mse += mse / workers.world
        log_n += 1
        if workers.rank == 0 and (step % run.log_every == 0 or step == total):
            now, cpu = time.time(), time.process_time()
            rate = log_n * bs / max(1e-9, now - last_log)
            run.log("%s step %d/%d loss %.5f train-psnr %.2f dB lr %.2e | %.1f samples/s (%.1f by "
                    "worker 0's CPU time), elapsed %.1f min, eta %.1f min"
                    % (stage, step, total, log_loss / log_n,
                       10 * math.log10(4.0 / max(log_mse / log_n, 1e-12)), opt.param_groups[0]["lr"],
                       rate, cpu_rate(log_n * bs, cpu - last_cpu, run.threads),
                       (elapsed + now - t0) / 60, (total - step) * bs / max(rate, 1e-9) / 60))
            last_log, last_cpu, log_loss, log_mse, log_n = now, cpu, 0.0, 0.0, 0
        if step < total and ckpt > 0:
            if workers.rank == 0:
                atomic_save({"step": step, "elapsed": elapsed + time.time() - t0, "vae": vae.state_dict(),
                             "opt": opt.state_dict(), "rng": rng_states()}, ckpt_path)
                last_ckpt = time.time()
            if stop > 0:
                run.log("%s: checkpoint at step %d, stopping" % (stage, step))
                raise Interrupted()
    for p in vae.parameters():
        p.requires_grad_(True)
    if workers.rank == 0:
        atomic_save({"vae": vae.state_dict()}, run.path(stage + ".pt"))
        run.finish(stage, elapsed + time.time() - t0)
        if os.path.exists(ckpt_path):
            os.remove(ckpt_path)


@torch.no_grad()
def stage_latents(run: Run, vae: models.AutoencoderKL, images: np.ndarray, holdout: np.ndarray):
    path = run.path("latents.pt")
    if run.done("latents") and os.path.exists(path):
        z = torch.load(path)
        return z["mean"], z["std"], z["scaling_factor"]
    start = time.time()
    vae.eval()
    means, stds = [], []
    for a in range(0, len(images), ENCODE_BATCH):
        mean, logvar = vae.encode(to_image_tensor(images[a:a + ENCODE_BATCH]))
        means.append(mean.half())
        stds.append(torch.exp(0.5 * logvar).half())
    mean = torch.cat(means)
    std = torch.cat(stds)
    m = mean.float()
    s = std.float()
    # std of what the U-Net trains on (posterior samples): Var = Var(mean) + E[std^2]
    total_std = math.sqrt(float(m.var()) + float(s.pow(2).mean()))
    scaling_factor = 1.0 / total_std
    run.log("latents: %s, mean %.4f, std %.4f (mean posterior std %.4f), scaling_factor %.5f; "
            "per channel mean %s std %s"
            % (tuple(mean.shape), float(m.mean()), total_std, float(s.mean()), scaling_factor,
               [round(v, 3) for v in m.mean(dim=(0, 2, 3)).tolist()],
               [round(v, 3) for v in m.std(dim=(0, 2, 3)).tolist()]))
    psnr, psnr_images = holdout_psnr(vae, holdout)
    run.log("latents: VAE reconstruction of the %d holdout images (posterior mean, 8-bit output): "
            "PSNR %.2f dB (of the mean MSE), %.2f dB (mean over images)"
            % (len(holdout), psnr, psnr_images))
    atomic_save({"mean": mean, "std": std, "scaling_factor": scaling_factor}, path)
    run.finish("latents", time.time() - start, scaling_factor=scaling_factor,
               vae_holdout_psnr_db=round(psnr, 2),
               vae_holdout_psnr_mean_over_images_db=round(psnr_images, 2))
    return mean, std, scaling_factor


@torch.no_grad()
def holdout_psnr(vae: models.AutoencoderKL, holdout: np.ndarray) -> Tuple[float, float]:
    """PSNR of the 8-bit decoded posterior means against the 8-bit originals (as the server
    rounds its output)."""
    vae.eval()
    errors = []
    for a in range(0, len(holdout), ENCODE_BATCH):
        mean, _ = vae.encode(to_image_tensor(holdout[a:a + ENCODE_BATCH]))
        rec = vae.decoder(mean).clamp(-1, 1)
        rec8 = torch.floor((rec / 2 + 0.5) * 255 + 0.5)
        ref8 = torch.from_numpy(holdout[a:a + ENCODE_BATCH]).permute(0, 3, 1, 2).float()
        errors.append((rec8 - ref8).pow(2).mean(dim=(1, 2, 3)))
    mse = torch.cat(errors).double()
    per_image = 10 * torch.log10(255.0 ** 2 / mse.clamp(min=1e-10))
    return float(10 * torch.log10(255.0 ** 2 / mse.mean())), float(per_image.mean())


def load_denoiser(run: Run, stage: str, text_encoder, unet) -> None:
    weights = torch.load(run.path(stage + ".pt"))
    text_encoder.load_state_dict(weights["text_encoder"])
    unet.load_state_dict(weights["unet"])


def denoiser_schedule(cfg: dict, stage: str, captions) -> Tuple[int, float, int, int, np.ndarray]:
    """Steps, learning rate, warm-up, the stage's seed number and the pool of image indices an epoch
    goes through: every image once for "unet"; for "finetune" the two-object images repeated."""
    everything = np.arange(len(captions))
    if stage == "unet":
        return cfg["unet_steps"], cfg["unet_lr"], cfg["unet_warmup"], 20, everything
    two_objects = np.array([i for i, (canonical, _) in enumerate(captions) if " and " in canonical])
    pool = np.concatenate([everything] + [two_objects] * (cfg["finetune_two_object_repeats"] - 1))
    return cfg["finetune_steps"], cfg["finetune_lr"], cfg["finetune_warmup"], 30, pool


def train_unet(run: Run, stage: str, text_encoder, unet, captions, lat_mean, lat_std, scaling_factor,
               workers: Workers) -> None:
    """Trains the text encoder and U-Net jointly from their current weights; writes <stage>.pt with
    the EMA weights."""
    cfg = run.config
    vocab = data.build_vocab()
    L = cfg["text_max_length"]
    total, base_lr, warmup, stage_seed, pool = denoiser_schedule(cfg, stage, captions)
    bs = cfg["unet_batch"]
    mine = workers.share(bs)
    params = list(text_encoder.parameters()) + list(unet.parameters())
    opt = torch.optim.AdamW(params, lr=base_lr, weight_decay=0.01)
    alphas = exporter.alphas_cumprod()
    snr = alphas / (1 - alphas)
    loss_weight = torch.clamp(snr, max=cfg["min_snr_gamma"]) / snr      # min-SNR-gamma for epsilon
    empty = data.encode(vocab, "", L)
    ckpt_path = run.path(stage + ".ckpt")
    step, elapsed = 0, 0.0
    ema = None
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        text_encoder.load_state_dict(ck["text_encoder"])
        unet.load_state_dict(ck["unet"])
        opt.load_state_dict(ck["opt"])
        set_rng_states(ck["rng"])
        step, elapsed = ck["step"], ck["elapsed"]
        ema = ck["ema"]
        run.log("%s: resumed at step %d/%d" % (stage, step, total))
    workers.broadcast(list(text_encoder.state_dict().values()) + list(unet.state_dict().values()))
    if workers.rank == 0 and ema is None:
        ema = [p.detach().clone() for p in params]
    t0 = last_ckpt = last_log = time.time()
    last_cpu = time.process_time()
    log_loss, log_n = 0.0, 0
    text_encoder.train()
    unet.train()
    while step < total:
        # the whole batch's draws, then this worker's share
        idx = pool[epoch_indices(cfg["seed"], stage_seed, len(pool), step * bs, bs)]
        rng = np.random.default_rng([cfg["seed"], stage_seed + 1, step])
        ids = []
        for i in idx:
            if rng.random() < cfg["caption_dropout"]:
                ids.append(empty)
            else:
                canonical, paraphrase = captions[i]
                ids.append(data.encode(vocab, data.caption_variant(canonical, paraphrase, rng), L))
        g = torch.Generator().manual_seed(step_seed(cfg["seed"], stage_seed + 2, step))
        shape = (bs,) + tuple(lat_mean.shape[1:])
        posterior = torch.randn(shape, generator=g)[mine]
        noise = torch.randn(shape, generator=g)[mine]
        t = torch.randint(0, len(alphas), (bs,), generator=g)[mine]
        ids = torch.tensor(ids[mine], dtype=torch.int64)
        it = torch.from_numpy(idx[mine])
        x0 = (lat_mean[it].float() + lat_std[it].float() * posterior) * scaling_factor
        a = alphas[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        for group in opt.param_groups:
            group["lr"] = cosine_lr(step, total, base_lr, warmup)
        pred = unet(xt, t.float(), text_encoder(ids))
        loss = (loss_weight[t] * (pred - noise).pow(2).mean(dim=(1, 2, 3))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        want = checkpoint_due(run, step + 1, last_ckpt) if workers.rank == 0 else False
        total_loss, ckpt, stop = workers.sync(params, [float(loss), float(want), float(run.stop_requested)])
        grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if ema is not None:
            decay = min(cfg["ema_decay"], (1 + step) / (10 + step))
            with torch.no_grad():
                torch._foreach_mul_(ema, decay)
                torch._foreach_add_(ema, [p.detach() for p in params], alpha=1 - decay)
        step += 1
        log_loss += total_loss / workers.world
        log_n += 1
        if workers.rank == 0 and (step % run.log_every == 0 or step == total):
            now, cpu = time.time(), time.process_time()
            rate = log_n * bs / max(1e-9, now - last_log)
            run.log("%s step %d/%d loss %.5f grad %.3f lr %.2e | %.1f samples/s (%.1f by worker 0's "
                    "CPU time), elapsed %.1f min, eta %.1f min"
                    % (stage, step, total, log_loss / log_n, float(grad_norm), opt.param_groups[0]["lr"], rate,
                       cpu_rate(log_n * bs, cpu - last_cpu, run.threads), (elapsed + now - t0) / 60,
                       (total - step) * bs / max(rate, 1e-9) / 60))
            last_log, last_cpu, log_loss, log_n = now, cpu, 0.0, 0
        if step < total and ckpt > 0:
            if workers.rank == 0:
                atomic_save({"step": step, "elapsed": elapsed + time.time() - t0,
                             "text_encoder": text_encoder.state_dict(), "unet": unet.state_dict(),
                             "ema": ema, "opt": opt.state_dict(), "rng": rng_states()}, ckpt_path)
                last_ckpt = time.time()
            if stop > 0:
                run.log("%s: checkpoint at step %d, stopping" % (stage, step))
                raise Interrupted()
    if workers.rank != 0:
        return
    # the exported weights are the EMA's
    with torch.no_grad():
        for p, e in zip(params, ema):
            p.copy_(e)
    atomic_save({"text_encoder": text_encoder.state_dict(), "unet": unet.state_dict()},
                run.path(stage + ".pt"))
    run.finish(stage, elapsed + time.time() - t0)
    if os.path.exists(ckpt_path):
        os.remove(ckpt_path)


def run_parallel(run: Run, stage: str, helper_args: dict, fn, *fn_args, helper_main=None) -> None:
    workers, procs, init_file = start_helpers(run, stage, helper_args, helper_main)
    try:
        fn(*fn_args, workers)
    finally:
        stop_helpers(procs, init_file)


def between_stages(run: Run) -> None:
    """Honour a stop requested during a stage that does not checkpoint (data, latents)."""
    if run.stop_requested:
        run.log("stopping between stages")
        raise Interrupted()


def sample_grid(directory: str, guidance: float, steps: int, per_prompt: int = 6) -> np.ndarray:
    """One row per SAMPLE_PROMPTS entry, per_prompt seeds each; uint8 [H, W, 3]."""
    rows = []
    for i, prompt in enumerate(SAMPLE_PROMPTS):
        img = exporter.ddim_sample(directory, [prompt] * per_prompt, seed=i, steps=steps,
                                   guidance_scale=guidance)
        img = (img * 255 + 0.5).floor().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        rows.append(np.concatenate(list(img), axis=1))
    return np.concatenate(rows, axis=0)


# ----------------------------------------------------------------------------------------------

def parse_args(argv: List[str]):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", default="/tmp/stipple-train",
                    help="checkpoints, caches and train.log (default /tmp/stipple-train)")
    ap.add_argument("--out", help="pipeline directory to export to (no export without it)")
    ap.add_argument("--workers", type=int, default=2, help="training processes (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--checkpoint-steps", type=int, default=0, help="also checkpoint every N steps")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--stop-after", choices=STAGES, help="stop after this stage")
    ap.add_argument("--restart", action="store_true", help="discard the work dir's progress first")
    ap.add_argument("--no-env", action="store_true", help="do not re-exec with the malloc settings")
    for key, value in CONFIG.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, list):
            ap.add_argument(flag, type=type(value[0]), nargs="+", default=None)
        else:
            ap.add_argument(flag, type=type(value), default=None)
    ap.add_argument("--name", default=exporter.DEFAULT_NAME)
    ap.add_argument("--description", default=exporter.DEFAULT_DESCRIPTION)
    ap.add_argument("--default-steps", type=int, default=20)
    ap.add_argument("--default-guidance-scale", type=float, default=3.0)
    ap.add_argument("--default-sampler", default="ddim", choices=exporter.SAMPLERS)
    return ap.parse_args(argv)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    config = dict(CONFIG)
    for key in CONFIG:
        value = getattr(args, key)
        if value is not None:
            config[key] = value
    work = args.work_dir
    if args.restart and os.path.isdir(work):
        for name in os.listdir(work):
            if name != "train.log":
                os.remove(os.path.join(work, name))
    os.makedirs(work, exist_ok=True)
    for name in os.listdir(work):
        if name.startswith("dist-") or name.endswith(".tmp") or name.endswith(".tmp.npz"):
            os.remove(os.path.join(work, name))       # left by a killed run
    config_path = os.path.join(work, "config.json")
    if os.path.exists(config_path):
        with open(config_path) as f:
            previous = json.load(f)
        if previous != config:
            changed = sorted(k for k in set(previous) | set(config) if previous.get(k) != config.get(k))
            print("%s was started with another configuration (%s differ); use another --work-dir "
                  "or --restart" % (work, ", ".join(changed)), file=sys.stderr)
            return 2
    else:
        atomic_write_json(config_path, config)
    run = Run(work, config, args.workers, args.threads, args.checkpoint_minutes,
              args.checkpoint_steps, args.log_every)
    helper_args = {"workers": args.workers, "threads": args.threads,
                   "checkpoint_minutes": args.checkpoint_minutes,
                   "checkpoint_steps": args.checkpoint_steps, "log_every": args.log_every}
    # single-process stages (latents, export) use every core
    torch.set_num_threads(args.workers * args.threads)

    def request_stop(signum, frame):
        run.stop_requested = True
        run.log("signal %d: stopping after the next step's checkpoint" % signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    run.log("start: torch %s, %d worker(s) x %d thread(s), work dir %s, done %s; env %s"
            % (torch.__version__, args.workers, args.threads, work, sorted(run.state["done"]),
               {k: os.environ.get(k) for k in MALLOC_ENV}))
    run.log("config: " + json.dumps(config))
    previous_layout = run.state.get("layout")
    layout = {"workers": args.workers, "threads": args.threads}
    if previous_layout and previous_layout != layout:
        run.log("note: the run was started with %s; resuming with %s is not bit-for-bit what an "
                "uninterrupted run would give" % (previous_layout, layout))
    run.state["layout"] = layout
    run.save_state()
    t_start = time.time()
    vae, text_encoder, unet = new_modules(config)
    run.log("params: vae encoder %d, vae decoder %d, text encoder %d (vocab %d), unet %d"
            % (models.count_params(vae.encoder), models.count_params(vae.decoder),
               models.count_params(text_encoder), len(data.build_vocab()), models.count_params(unet)))
    try:
        images, captions, holdout = stage_data(run)
        between_stages(run)
        if args.stop_after == "data":
            return 0
        for stage in ("vae1", "vae2"):
            if run.done(stage):
                vae.load_state_dict(torch.load(run.path(stage + ".pt"))["vae"])
            else:
                torch.set_num_threads(args.threads)
                run_parallel(run, stage, helper_args, train_vae, run, vae, images, stage)
                torch.set_num_threads(args.workers * args.threads)
                psnr, _ = holdout_psnr(vae, holdout)
                run.state["metrics"][stage + "_holdout_psnr_db"] = round(psnr, 2)
                run.save_state()
                run.log("%s: holdout PSNR %.2f dB" % (stage, psnr))
            between_stages(run)
            if args.stop_after == stage:
                return 0
        lat_mean, lat_std, scaling_factor = stage_latents(run, vae, images, holdout)
        del images
        between_stages(run)
        if args.stop_after == "latents":
            return 0
        for stage in ("unet", "finetune"):
            if run.done(stage):
                load_denoiser(run, stage, text_encoder, unet)
            else:
                torch.set_num_threads(args.threads)
                run_parallel(run, stage, helper_args, train_unet, run, stage, text_encoder, unet, captions,
                             lat_mean, lat_std, scaling_factor)
                torch.set_num_threads(args.workers * args.threads)
            between_stages(run)
            if args.stop_after == stage:
                return 0
        start = time.time()
        atomic_save({"config": config, "scaling_factor": scaling_factor, "vae": vae.state_dict(),
                     "text_encoder": text_encoder.state_dict(), "unet": unet.state_dict()},
                    run.path("final.pt"))
        if args.out:
            exporter.export(args.out, config, vae, text_encoder, unet, scaling_factor, args.name,
                            args.description, args.default_steps, args.default_guidance_scale,
                            args.default_sampler, log=run.log)
            shapes.write_png(run.path("samples.png"),
                             sample_grid(args.out, args.default_guidance_scale, args.default_steps))
            run.log("export: samples.png, DDIM %d steps, guidance %.1f, 6 seeds per row: %s"
                    % (args.default_steps, args.default_guidance_scale, "; ".join(SAMPLE_PROMPTS)))
        run.finish("export", time.time() - start)
    except Interrupted:
        return 130
    total = sum(v["seconds"] for v in run.state["done"].values())
    run.log("all stages done; stage times (min): %s; total %.1f min (this invocation %.1f min)"
            % ({k: round(v["seconds"] / 60, 1) for k, v in run.state["done"].items()}, total / 60,
               (time.time() - t_start) / 60))
    run.log("metrics: " + json.dumps(run.state["metrics"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
