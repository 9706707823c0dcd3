#!/usr/bin/env python3
"""Distill a Stipple pipeline into a latent consistency model (LCM) and export it as a pipeline
directory whose U-Net embeds the guidance scale.

Usage:
    /usr/bin/python3 src/training/distill.py --teacher src/main/resources/stipple/default-model \\
        --work-dir /tmp/stipple-lcm --out src/main/resources/stipple/shapes-lcm

Latent consistency distillation (Luo et al. 2023, Algorithm 1, as diffusers'
examples/consistency_distillation/train_lcm_distill_sd_wds.py does it): a training latent x0 is
noised to a point t_{n+k} of the teacher's skipping schedule (k = 1000 / solver_steps); the teacher
takes one classifier-free-guided DDIM step from there to t_n with a guidance scale drawn per example;
the student, which sees the guidance scale as an embedding instead of running twice, must map the
noisy point to the same denoised latent as the target network (an EMA of the student) maps the
teacher's step, each through LCM's boundary-condition scalings c_skip, c_out. Pseudo-Huber distance.

Stages, resumed from --work-dir like train.py's:
  data     the captioned-shapes images (train.py's data stage, same seed: the teacher's data)
  latents  the images through the teacher's vae_encoder.pt, scaled by its scaling_factor
  distill  the student U-Net (the teacher's weights plus a zero-initialised guidance projection)
  export   the pipeline directory: the teacher's text encoder, VAE and tokenizer, the student's
           unet.pt (4 inputs), pipeline.json with time_cond_proj_dim, an LCMScheduler config
"""

import argparse
import copy
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from typing import List

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procenv  # noqa: E402

if __name__ == "__main__":
    procenv.ensure()

import numpy as np  # noqa: E402
import torch  # noqa: E402

import data  # noqa: E402
import export as exporter  # noqa: E402
import models  # noqa: E402
import shapes  # noqa: E402
import train  # noqa: E402

CONFIG = {
    "seed": 0,
    "num_images": train.CONFIG["num_images"],
    "holdout_images": train.CONFIG["holdout_images"],
    "batch": 64,
    "steps": 2500,
    "lr": 1e-4,
    "warmup": 200,
    "solver_steps": 50,
    "guidance_min": 2.0,
    "guidance_max": 6.0,
    "target_ema": 0.95,
    "huber_c": 0.001,
    "time_cond_proj_dim": 256,
    "timestep_scaling": 10.0,
}
STAGES = ("data", "latents", "distill", "export")
TEACHER_FILES = ("tokenizer.json", "text_encoder.pt", "vae_decoder.pt", "vae_encoder.pt")
DEFAULT_NAME = "stipple-shapes-lcm"
DEFAULT_DESCRIPTION = ("Latent consistency model distilled from stipple-shapes (src/training/distill.py): "
                       "the same shapes in 2-4 steps, guidance scale embedded in the U-Net.")
SIGMA_DATA = 0.5


def lcm_scheduler_config(teacher_config: dict, timestep_scaling: float, solver_steps: int) -> dict:
    """The teacher's noise schedule under diffusers' LCMScheduler, whose timesteps are the
    distillation's skipping schedule."""
    keep = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type",
            "set_alpha_to_one", "steps_offset", "clip_sample")
    config = {"_class_name": "LCMScheduler"}
    config.update({k: teacher_config[k] for k in keep if k in teacher_config})
    config.update({"original_inference_steps": solver_steps, "timestep_scaling": timestep_scaling,
                   "timestep_spacing": "leading"})
    return config


def boundary_scalings(t: torch.Tensor, timestep_scaling: float):
    """LCM's c_skip, c_out at integer timesteps t: c_skip(0) = 1, c_out(0) = 0."""
    scaled = t.float() * timestep_scaling
    c_skip = SIGMA_DATA ** 2 / (scaled ** 2 + SIGMA_DATA ** 2)
    c_out = scaled / (scaled ** 2 + SIGMA_DATA ** 2) ** 0.5
    return c_skip[:, None, None, None], c_out[:, None, None, None]


def predicted_x0(eps: torch.Tensor, x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    a = alpha[:, None, None, None]
    return (x - (1 - a).sqrt() * eps) / a.sqrt()


def load_teacher(directory: str):
    """The teacher's pipeline.json, scheduler_config.json, scripted text encoder and an eager U-Net
    with its weights (TorchScript keeps the parameter names of the module it was scripted from)."""
    with open(os.path.join(directory, "pipeline.json")) as f:
        spec = json.load(f)
    with open(os.path.join(directory, "scheduler_config.json")) as f:
        sched = json.load(f)
    text_encoder = torch.jit.load(os.path.join(directory, "text_encoder.pt")).eval()
    unet = new_unet(0)
    unet.load_state_dict(torch.jit.load(os.path.join(directory, "unet.pt")).state_dict())
    return spec, sched, text_encoder, unet.eval()


def new_unet(time_cond_proj_dim: int) -> models.UNet:
    c = train.CONFIG
    return models.UNet(c["latent_channels"], c["unet_channels"], c["unet_blocks"], c["unet_attention"],
                       c["text_dim"], c["unet_heads"], True, c["unet_ff_mult"],
                       time_cond_proj_dim=time_cond_proj_dim)


def new_student(teacher: models.UNet, cfg: dict) -> models.UNet:
    student = new_unet(cfg["time_cond_proj_dim"])
    missing, unexpected = student.load_state_dict(teacher.state_dict(), strict=False)
    assert missing == ["cond_proj.weight"] and not unexpected, (missing, unexpected)
    return student


def stage_latents(run: train.Run, teacher_dir: str, spec: dict, images: np.ndarray) -> torch.Tensor:
    path = run.path("latents.pt")
    if run.done("latents") and os.path.exists(path):
        return torch.load(path)
    start = time.time()
    encoder = torch.jit.load(os.path.join(teacher_dir, "vae_encoder.pt")).eval()
    parts = []
    with torch.no_grad():
        for a in range(0, len(images), train.ENCODE_BATCH):
            parts.append((encoder(train.to_image_tensor(images[a:a + train.ENCODE_BATCH]))
                          * spec["scaling_factor"]).half())
    latents = torch.cat(parts)
    train.atomic_save(latents, path)
    run.log("latents: %s through the teacher's encoder, std %.4f after scaling"
            % (tuple(latents.shape), float(latents.float().std())))
    run.finish("latents", time.time() - start)
    return latents


def distill(run: train.Run, teacher_dir: str, latents: torch.Tensor, captions: List[list],
            workers: train.Workers) -> None:
    """The distill stage on one worker; worker 0 checkpoints, logs and writes distill.pt (the
    target network's weights, which are what gets exported)."""
    cfg = run.config
    spec, sched, text_encoder, teacher = load_teacher(teacher_dir)
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = new_student(teacher, cfg)
    target = copy.deepcopy(student)
    for p in target.parameters():
        p.requires_grad_(False)
    params = list(student.parameters())
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=0.0)
    vocab = data.build_vocab()
    L = spec["text_max_length"]
    empty = torch.tensor([data.encode(vocab, "", L)], dtype=torch.int64)
    alphas = exporter.alphas_cumprod(sched)
    k = sched["num_train_timesteps"] // cfg["solver_steps"]
    solver_timesteps = torch.arange(1, cfg["solver_steps"] + 1) * k - 1
    total, bs = cfg["steps"], cfg["batch"]
    mine = workers.share(bs)
    ckpt_path = run.path("distill.ckpt")
    step, elapsed = 0, 0.0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        student.load_state_dict(ck["student"])
        target.load_state_dict(ck["target"])
        opt.load_state_dict(ck["opt"])
        train.set_rng_states(ck["rng"])
        step, elapsed = ck["step"], ck["elapsed"]
        run.log("distill: resumed at step %d/%d" % (step, total))
    t0 = last_ckpt = last_log = time.time()
    log_loss, log_n = 0.0, 0
    student.train()
    while step < total:
        idx = train.epoch_indices(cfg["seed"], 40, len(captions), step * bs, bs)
        rng = np.random.default_rng([cfg["seed"], 41, step])
        ids = [data.encode(vocab, data.caption_variant(*captions[i], rng), L) for i in idx]
        g = torch.Generator().manual_seed(train.step_seed(cfg["seed"], 42, step))
        noise = torch.randn((bs,) + tuple(latents.shape[1:]), generator=g)[mine]
        index = torch.randint(0, cfg["solver_steps"], (bs,), generator=g)[mine]
        guidance = (cfg["guidance_min"] + (cfg["guidance_max"] - cfg["guidance_min"])
                    * torch.rand(bs, generator=g))[mine]
        x0 = latents[torch.from_numpy(idx[mine])].float()
        t_start = solver_timesteps[index]
        t_next = (t_start - k).clamp(min=0)
        a_start = alphas[t_start]
        a_next = torch.where(t_start - k >= 0, alphas[t_next], alphas[0])
        x_start = a_start.sqrt()[:, None, None, None] * x0 + (1 - a_start).sqrt()[:, None, None, None] * noise
        w = guidance - 1
        w_embedding = models.guidance_embedding(w, cfg["time_cond_proj_dim"])
        n = len(w)
        with torch.no_grad():
            context = text_encoder(torch.cat([torch.tensor(ids[mine], dtype=torch.int64), empty.expand(n, L)]))
            eps_cond, eps_uncond = teacher(torch.cat([x_start, x_start]), torch.cat([t_start, t_start]).float(),
                                           context).chunk(2)
            eps = eps_uncond + guidance[:, None, None, None] * (eps_cond - eps_uncond)
            x0_teacher = predicted_x0(eps, x_start, a_start)
            x_next = a_next.sqrt()[:, None, None, None] * x0_teacher + (1 - a_next).sqrt()[:, None, None, None] * eps
            eps_target = target(x_next, t_next.float(), context[:n], w_embedding)
            c_skip, c_out = boundary_scalings(t_next, cfg["timestep_scaling"])
            wanted = c_skip * x_next + c_out * predicted_x0(eps_target, x_next, alphas[t_next])
        c_skip, c_out = boundary_scalings(t_start, cfg["timestep_scaling"])
        eps_student = student(x_start, t_start.float(), context[:n], w_embedding)
        got = c_skip * x_start + c_out * predicted_x0(eps_student, x_start, a_start)
        c = cfg["huber_c"]
        loss = (torch.sqrt((got - wanted).pow(2) + c * c) - c).mean()
        for group in opt.param_groups:
            group["lr"] = train.cosine_lr(step, total, cfg["lr"], cfg["warmup"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        want = train.checkpoint_due(run, step + 1, last_ckpt) if workers.rank == 0 else False
        total_loss, ckpt, stop = workers.sync(params, [float(loss), float(want), float(run.stop_requested)])
        grad_norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        with torch.no_grad():
            for tp, sp in zip(target.parameters(), student.parameters()):
                tp.mul_(cfg["target_ema"]).add_(sp.detach(), alpha=1 - cfg["target_ema"])
        step += 1
        log_loss += total_loss / workers.world
        log_n += 1
        if workers.rank == 0 and (step % run.log_every == 0 or step == total):
            now = time.time()
            rate = log_n * bs / max(1e-9, now - last_log)
            run.log("distill step %d/%d loss %.6f grad %.3f lr %.2e | %.1f examples/s, elapsed %.1f min, "
                    "eta %.1f min" % (step, total, log_loss / log_n, float(grad_norm), opt.param_groups[0]["lr"],
                                      rate, (elapsed + now - t0) / 60, (total - step) * bs / max(rate, 1e-9) / 60))
            last_log, log_loss, log_n = now, 0.0, 0
        if step < total and ckpt > 0:
            if workers.rank == 0:
                train.atomic_save({"step": step, "elapsed": elapsed + time.time() - t0,
                                   "student": student.state_dict(), "target": target.state_dict(),
                                   "opt": opt.state_dict(), "rng": train.rng_states()}, ckpt_path)
                last_ckpt = time.time()
            if stop > 0:
                run.log("distill: checkpoint at step %d, stopping" % step)
                raise train.Interrupted()
    if workers.rank != 0:
        return
    train.atomic_save({"unet": target.state_dict()}, run.path("distill.pt"))
    run.finish("distill", elapsed + time.time() - t0)
    if os.path.exists(ckpt_path):
        os.remove(ckpt_path)


def _distill_helper(rank, world, init_file, work_dir, config, threads, stage, args) -> None:
    run_args = {k: v for k, v in args.items() if k != "teacher"}
    run = train.join_as_helper(rank, world, init_file, work_dir, config, threads, run_args)
    try:
        with open(run.path("captions.json")) as f:
            captions = json.load(f)
        distill(run, args["teacher"], torch.load(run.path("latents.pt")), captions,
                train.Workers(rank, world))
    except train.Interrupted:
        pass
    finally:
        torch.distributed.destroy_process_group()


def export(run: train.Run, teacher_dir: str, out_dir: str, name: str, description: str,
           default_steps: int, default_guidance_scale: float) -> None:
    cfg = run.config
    spec, sched, _, teacher = load_teacher(teacher_dir)
    student = new_unet(cfg["time_cond_proj_dim"])
    student.load_state_dict(torch.load(run.path("distill.pt"))["unet"])
    student.eval()
    parent = os.path.dirname(os.path.abspath(out_dir)) or "."
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        for file in TEACHER_FILES:
            shutil.copyfile(os.path.join(teacher_dir, file), os.path.join(staging, file))
        pipeline = dict(spec, name=name, description=description, default_steps=default_steps,
                        default_guidance_scale=default_guidance_scale, default_sampler="lcm",
                        time_cond_proj_dim=cfg["time_cond_proj_dim"])
        exporter.write_json(os.path.join(staging, "pipeline.json"), pipeline)
        exporter.write_json(os.path.join(staging, "scheduler_config.json"),
                            lcm_scheduler_config(sched, cfg["timestep_scaling"], cfg["solver_steps"]))
        with torch.no_grad():
            torch.jit.save(torch.jit.script(student), os.path.join(staging, "unet.pt"))
        verify(staging, student, pipeline)
        os.makedirs(out_dir, exist_ok=True)
        for file in exporter.FILES:
            os.replace(os.path.join(staging, file), os.path.join(out_dir, file))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    run.log("export: %s (%s, %d steps, guidance %.1f)" % (out_dir, name, default_steps, default_guidance_scale))


@torch.no_grad()
def verify(directory: str, student: models.UNet, pipeline: dict) -> None:
    """The scripted U-Net takes 4 inputs, computes what the module computes, row by row."""
    unet = torch.jit.load(os.path.join(directory, "unet.pt"))
    g = torch.Generator().manual_seed(7)
    C, L, D = pipeline["latent_channels"], pipeline["text_max_length"], train.CONFIG["text_dim"]
    x = torch.randn(3, C, 16, 16, generator=g)
    t = torch.tensor([999.0, 499.0, 19.0])
    ctx = torch.randn(3, L, D, generator=g)
    cond = models.guidance_embedding(torch.tensor([0.0, 2.0, 5.0]), pipeline["time_cond_proj_dim"])
    full = unet(x, t, ctx, cond)
    assert torch.allclose(full, student(x, t, ctx, cond), atol=1e-4)
    for i in range(3):
        assert torch.allclose(unet(x[i:i + 1], t[i:i + 1], ctx[i:i + 1], cond[i:i + 1]), full[i:i + 1], atol=1e-4)


@torch.no_grad()
def lcm_sample(directory: str, prompts: List[str], seed: int, steps: int, guidance_scale: float) -> torch.Tensor:
    """diffusers' LatentConsistencyModelPipeline with LCMScheduler (torch's noise, not the server's);
    images [N, 3, H, W] in [0, 1]. For the log's sample grid."""
    with open(os.path.join(directory, "pipeline.json")) as f:
        spec = json.load(f)
    with open(os.path.join(directory, "scheduler_config.json")) as f:
        sched = json.load(f)
    te = torch.jit.load(os.path.join(directory, "text_encoder.pt"))
    un = torch.jit.load(os.path.join(directory, "unet.pt"))
    vd = torch.jit.load(os.path.join(directory, "vae_decoder.pt"))
    vocab = data.build_vocab()
    L, C, f = spec["text_max_length"], spec["latent_channels"], spec["vae_scale_factor"]
    n = len(prompts)
    ctx = te(torch.tensor([data.encode(vocab, p, L) for p in prompts]))
    cond = models.guidance_embedding(torch.full((n,), guidance_scale - 1.0), spec["time_cond_proj_dim"])
    alphas = exporter.alphas_cumprod(sched)
    k = sched["num_train_timesteps"] // sched["original_inference_steps"]
    origin = (np.arange(1, sched["original_inference_steps"] + 1) * k - 1)[::-1]
    timesteps = origin[np.floor(np.linspace(0, len(origin), steps, endpoint=False)).astype(np.int64)]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, C, spec["default_height"] // f, spec["default_width"] // f, generator=g)
    for i, t in enumerate(timesteps):
        tt = torch.full((n,), int(t))
        eps = un(x, tt.float(), ctx, cond)
        c_skip, c_out = boundary_scalings(tt, sched["timestep_scaling"])
        denoised = c_skip * x + c_out * predicted_x0(eps, x, alphas[tt])
        if i + 1 < len(timesteps):
            a_prev = alphas[int(timesteps[i + 1])]
            x = a_prev.sqrt() * denoised + (1 - a_prev).sqrt() * torch.randn(x.shape, generator=g)
        else:
            x = denoised
    return (vd(x / spec["scaling_factor"]) / 2 + 0.5).clamp(0, 1)


def sample_grid(directory: str, steps: int, guidance: float, per_prompt: int = 6) -> np.ndarray:
    rows = []
    for i, prompt in enumerate(train.SAMPLE_PROMPTS):
        img = lcm_sample(directory, [prompt] * per_prompt, seed=i, steps=steps, guidance_scale=guidance)
        img = (img * 255 + 0.5).floor().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        rows.append(np.concatenate(list(img), axis=1))
    return np.concatenate(rows, axis=0)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--teacher", default="src/main/resources/stipple/default-model",
                    help="the teacher's pipeline directory")
    ap.add_argument("--work-dir", default="/tmp/stipple-lcm")
    ap.add_argument("--out", help="pipeline directory to export to (no export without it)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--checkpoint-minutes", type=float, default=5.0)
    ap.add_argument("--checkpoint-steps", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--no-env", action="store_true", help="do not re-exec with the malloc settings")
    for key, value in CONFIG.items():
        ap.add_argument("--" + key.replace("_", "-"), type=type(value), default=None)
    ap.add_argument("--name", default=DEFAULT_NAME)
    ap.add_argument("--description", default=DEFAULT_DESCRIPTION)
    ap.add_argument("--default-steps", type=int, default=4)
    ap.add_argument("--default-guidance-scale", type=float, default=3.0)
    args = ap.parse_args(argv)
    config = dict(CONFIG)
    config.update({k: getattr(args, k) for k in CONFIG if getattr(args, k) is not None})
    os.makedirs(args.work_dir, exist_ok=True)
    for name in os.listdir(args.work_dir):
        if name.startswith("dist-") or name.endswith(".tmp") or name.endswith(".tmp.npz"):
            os.remove(os.path.join(args.work_dir, name))
    config_path = os.path.join(args.work_dir, "config.json")
    if os.path.exists(config_path):
        with open(config_path) as f:
            if json.load(f) != config:
                print("%s was started with another configuration; use another --work-dir" % args.work_dir,
                      file=sys.stderr)
                return 2
    else:
        train.atomic_write_json(config_path, config)
    run = train.Run(args.work_dir, config, args.workers, args.threads, args.checkpoint_minutes,
                    args.checkpoint_steps, args.log_every)
    helper_args = {"workers": args.workers, "threads": args.threads,
                   "checkpoint_minutes": args.checkpoint_minutes,
                   "checkpoint_steps": args.checkpoint_steps, "log_every": args.log_every}

    def request_stop(signum, frame):
        run.stop_requested = True
        run.log("signal %d: stopping after the next step's checkpoint" % signum)

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    torch.set_num_threads(args.workers * args.threads)
    run.log("distill start: torch %s, %d worker(s) x %d thread(s), teacher %s, config %s"
            % (torch.__version__, args.workers, args.threads, args.teacher, json.dumps(config)))
    t_start = time.time()
    try:
        images, captions, _ = train.stage_data(run)
        train.between_stages(run)
        with open(os.path.join(args.teacher, "pipeline.json")) as f:
            spec = json.load(f)
        latents = stage_latents(run, args.teacher, spec, images)
        del images
        train.between_stages(run)
        if not run.done("distill"):
            torch.set_num_threads(args.threads)
            train.run_parallel(run, "distill", dict(helper_args, teacher=args.teacher), distill, run,
                               args.teacher, latents, captions, helper_main=_distill_helper)
            torch.set_num_threads(args.workers * args.threads)
        if args.out:
            start = time.time()
            export(run, args.teacher, args.out, args.name, args.description, args.default_steps,
                   args.default_guidance_scale)
            shapes.write_png(run.path("samples.png"),
                             sample_grid(args.out, args.default_steps, args.default_guidance_scale))
            run.finish("export", time.time() - start)
    except train.Interrupted:
        return 130
    run.log("distill: all stages done in %.1f min (this invocation)" % ((time.time() - t_start) / 60))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
