#!/usr/bin/env python3
"""Export the trained default model as a Stipple pipeline directory (docs/pipeline-format.md).

Usage (re-export the last training run with other request defaults, no retraining):
    /usr/bin/python3 src/training/export.py --work-dir /tmp/stipple-train --out DIR \\
        [--default-steps 20] [--default-guidance-scale 3] [--default-sampler ddim] [--name N] [--description D]

train.py calls export() at the end of a run. The directory receives exactly pipeline.json,
scheduler_config.json, tokenizer.json, text_encoder.pt, unet.pt, vae_decoder.pt and vae_encoder.pt;
the files are written to a temporary directory beside DIR, verified (torch.jit.load, shapes for
B = 1 and 3, row independence, the tokenizer against data.encode, the size limit), then moved in.
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
from typing import Dict, List, Optional

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from word_level_tokenizer import tokenizer_json  # noqa: E402
import models  # noqa: E402

FORMAT = "stipple-pipeline/1"
MAX_DIRECTORY_BYTES = 25 * 1000 * 1000
FILES = ("pipeline.json", "scheduler_config.json", "tokenizer.json", "text_encoder.pt", "unet.pt",
         "vae_decoder.pt", "vae_encoder.pt")
SAMPLERS = ("ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler_a")

# Training uses the scaled_linear schedule below. "trailing" spacing makes every sampler start at
# t = 999, the noise level the U-Net was trained to start from (SD 1.x's "leading" starts DDIM at
# t = 951 with steps_offset 1); DDIM's last step goes to alpha = 1, i.e. lands on x0; no clipping.
SCHEDULER_CONFIG = {
    "_class_name": "DDIMScheduler",
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "epsilon",
    "timestep_spacing": "trailing",
    "steps_offset": 0,
    "set_alpha_to_one": True,
    "clip_sample": False,
}

DEFAULT_NAME = "stipple-shapes"
DEFAULT_DESCRIPTION = ("Small latent diffusion model trained from scratch on Stipple's captioned-shapes "
                       "dataset (src/training): one or two flat circles, squares or triangles on a flat "
                       "background, 64x64. Prompts follow the grammar in src/training/README.md.")


def alphas_cumprod(config: dict = SCHEDULER_CONFIG) -> torch.Tensor:
    """diffusers' scaled_linear schedule: betas = linspace(sqrt(start), sqrt(end), T)^2 (float32)."""
    betas = torch.linspace(config["beta_start"] ** 0.5, config["beta_end"] ** 0.5,
                           config["num_train_timesteps"], dtype=torch.float32) ** 2
    return torch.cumprod(1.0 - betas, dim=0)


# ----------------------------------------------------------------------------------------------
# tokenizer

def encode_with_tokenizer_json(tok: dict, text: str, max_length: int, pad_id: int) -> List[int]:
    """An independent reading of tokenizer.json (what DJL does with it): normalizer, pre-tokenizer,
    WordLevel lookup, truncation that keeps the template's special tokens, template, padding."""
    assert tok["normalizer"] == {"type": "Lowercase"} and tok["pre_tokenizer"] == {"type": "Whitespace"}
    vocab = tok["model"]["vocab"]
    unk = vocab[tok["model"]["unk_token"]]
    pieces = re.findall(r"\w+|[^\w\s]+", text.lower())
    ids = [vocab.get(p, unk) for p in pieces]
    template = tok["post_processor"]["single"]
    specials = tok["post_processor"]["special_tokens"]
    n_special = sum(1 for part in template if "SpecialToken" in part)
    ids = ids[:max_length - n_special]
    out: List[int] = []
    for part in template:
        if "SpecialToken" in part:
            out += specials[part["SpecialToken"]["id"]]["ids"]
        else:
            out += ids
    return out + [pad_id] * (max_length - len(out))


# ----------------------------------------------------------------------------------------------
# export

def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def pipeline_json(config: dict, scaling_factor: float, name: str, description: str,
                  default_steps: int, default_guidance_scale: float, default_sampler: str) -> dict:
    if default_sampler not in SAMPLERS:
        raise ValueError(f"default_sampler must be one of {SAMPLERS}, got {default_sampler!r}")
    factor = 2 ** (len(config["vae_channels"]) - 1)
    return {
        "format": FORMAT,
        "name": name,
        "description": description,
        "latent_channels": config["latent_channels"],
        "vae_scale_factor": factor,
        "scaling_factor": float(scaling_factor),
        "text_max_length": config["text_max_length"],
        "pad_token_id": data.PAD_ID,
        "default_width": 64,
        "default_height": 64,
        "default_steps": int(default_steps),
        "default_guidance_scale": float(default_guidance_scale),
        "default_sampler": default_sampler,
    }


def build_modules(config: dict, vocab_size: int):
    """Fresh (untrained) modules of the architecture that `config` describes."""
    vae = models.AutoencoderKL(config["vae_channels"], config["latent_channels"],
                               config["vae_encoder_blocks"], config["vae_decoder_blocks"])
    text_encoder = models.TextEncoder(vocab_size, config["text_dim"], config["text_layers"],
                                      config["text_heads"], config["text_max_length"])
    unet = models.UNet(config["latent_channels"], config["unet_channels"], config["unet_blocks"],
                       config["unet_attention"], config["text_dim"], config["unet_heads"],
                       True, config["unet_ff_mult"])
    return vae, text_encoder, unet


def export(out_dir: str, config: dict, vae: models.AutoencoderKL, text_encoder: nn.Module,
           unet: nn.Module, scaling_factor: float, name: str = DEFAULT_NAME,
           description: str = DEFAULT_DESCRIPTION, default_steps: int = 20,
           default_guidance_scale: float = 3.0, default_sampler: str = "ddim",
           log=print) -> None:
    vocab = data.build_vocab()
    parent = os.path.dirname(os.path.abspath(out_dir)) or "."
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        write_json(os.path.join(staging, "pipeline.json"),
                   pipeline_json(config, scaling_factor, name, description, default_steps,
                                 default_guidance_scale, default_sampler))
        write_json(os.path.join(staging, "scheduler_config.json"), SCHEDULER_CONFIG)
        write_json(os.path.join(staging, "tokenizer.json"), tokenizer_json(vocab))
        with torch.no_grad():
            parts = {
                "text_encoder.pt": text_encoder,
                "unet.pt": unet,
                "vae_decoder.pt": models.VaeDecoderExport(vae.decoder),
                "vae_encoder.pt": models.VaeEncoderExport(vae.encoder, config["latent_channels"]),
            }
            for file, module in parts.items():
                module = module.eval()
                scripted = torch.jit.script(module)
                torch.jit.save(scripted, os.path.join(staging, file))
        for line in verify(staging, config, vocab, reference=parts):
            log(line)
        os.makedirs(out_dir, exist_ok=True)
        for file in FILES:
            os.replace(os.path.join(staging, file), os.path.join(out_dir, file))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in FILES)
    log("exported %s (%d bytes)" % (out_dir, total))


@torch.no_grad()
def verify(directory: str, config: dict, vocab: Dict[str, int],
           reference: Optional[Dict[str, nn.Module]] = None) -> List[str]:
    """Checks what the server's loader checks and more; returns lines for the log."""
    lines = []
    present = sorted(os.listdir(directory))
    assert present == sorted(FILES), present
    total = sum(os.path.getsize(os.path.join(directory, f)) for f in FILES)
    assert total <= MAX_DIRECTORY_BYTES, f"directory is {total} bytes, more than {MAX_DIRECTORY_BYTES}"
    with open(os.path.join(directory, "pipeline.json")) as f:
        spec = json.load(f)
    with open(os.path.join(directory, "tokenizer.json")) as f:
        tok = json.load(f)
    assert set(spec) == {"format", "name", "description", "latent_channels", "vae_scale_factor",
                         "scaling_factor", "text_max_length", "pad_token_id", "default_width",
                         "default_height", "default_steps", "default_guidance_scale",
                         "default_sampler"}, sorted(spec)
    L, C, f = spec["text_max_length"], spec["latent_channels"], spec["vae_scale_factor"]
    pad = spec["pad_token_id"]
    for text in ("a red circle on a blue background", "", "Big red disk, grey background",
                 "a blue background with a tiny violet triangle on the left side",
                 "a red elephant " * 10):
        assert encode_with_tokenizer_json(tok, text, L, pad) == data.encode(vocab, text, L), text
    te = torch.jit.load(os.path.join(directory, "text_encoder.pt"))
    un = torch.jit.load(os.path.join(directory, "unet.pt"))
    vd = torch.jit.load(os.path.join(directory, "vae_decoder.pt"))
    ve = torch.jit.load(os.path.join(directory, "vae_encoder.pt"))
    g = torch.Generator().manual_seed(1234)
    ids_pad = torch.full((2, L), pad, dtype=torch.int64)
    ctx = te(ids_pad)
    D = ctx.size(2)
    assert ctx.shape == (2, L, D) and ctx.dtype == torch.float32
    h, w = spec["default_height"] // f, spec["default_width"] // f
    out = un(torch.zeros(2, C, h, w), torch.tensor([999.0, 1.0]), ctx)
    assert out.shape == (2, C, h, w) and out.dtype == torch.float32
    assert vd(torch.zeros(1, C, h, w)).shape == (1, 3, h * f, w * f)
    for b in (1, 3):
        for (hh, ww) in ((h, w), (h // 2, w + 4), (h + 1, w - 3)):
            ids = torch.randint(0, len(vocab), (b, L), generator=g)
            c = te(ids)
            assert c.shape == (b, L, D), c.shape
            x = torch.randn(b, C, hh, ww, generator=g)
            t = torch.rand(b, generator=g) * 999.0
            e = un(x, t, c)
            assert e.shape == (b, C, hh, ww) and torch.isfinite(e).all(), e.shape
            img = vd(x / spec["scaling_factor"])
            assert img.shape == (b, 3, hh * f, ww * f) and img.dtype == torch.float32, img.shape
            assert float(img.min()) >= -1.0 and float(img.max()) <= 1.0
            lat = ve(img)
            assert lat.shape == (b, C, hh, ww), lat.shape
    # rows independent, per-row (fractional) timesteps
    ids = torch.tensor([data.encode(vocab, p, L) for p in
                        ("a red circle on a blue background", "", "a green square and a red triangle "
                         "on a white background")])
    c = te(ids)
    x = torch.randn(3, C, h, w, generator=g)
    t = torch.tensor([999.0, 500.5, 0.25])
    full = un(x, t, c)
    for i in range(3):
        single = un(x[i:i + 1], t[i:i + 1], c[i:i + 1])
        assert torch.allclose(single, full[i:i + 1], atol=1e-4, rtol=1e-4), "rows are not independent"
    if reference is not None:
        # the scripted modules compute what the Python modules compute
        assert torch.allclose(reference["text_encoder.pt"](ids), c, atol=1e-5)
        assert torch.allclose(reference["unet.pt"](x, t, c), full, atol=1e-4)
    lines.append("verified %s: %d bytes; text [B,%d]->[B,%d,%d]; unet [B,%d,%d,%d]; decoder x%d"
                 % (directory, total, L, L, D, C, h, w, f))
    return lines


# ----------------------------------------------------------------------------------------------
# sampling (a Python twin of the server's default request, for the training log's sample grid)

@torch.no_grad()
def ddim_sample(directory: str, prompts: List[str], seed: int, steps: int = 20,
                guidance_scale: float = 3.0) -> torch.Tensor:
    """DDIM (eta 0) with this directory's scheduler_config (trailing spacing, last step to
    alpha = 1) and classifier-free guidance against the empty prompt; images [N, 3, 64, 64] in
    [0, 1]. The noise is torch's, not the server's, so images differ from the server's for the
    same seed."""
    with open(os.path.join(directory, "pipeline.json")) as f:
        spec = json.load(f)
    with open(os.path.join(directory, "scheduler_config.json")) as f:
        sched = json.load(f)
    assert sched["timestep_spacing"] == "trailing" and sched["set_alpha_to_one"]
    vocab = data.build_vocab()
    te = torch.jit.load(os.path.join(directory, "text_encoder.pt"))
    un = torch.jit.load(os.path.join(directory, "unet.pt"))
    vd = torch.jit.load(os.path.join(directory, "vae_decoder.pt"))
    L, C, f = spec["text_max_length"], spec["latent_channels"], spec["vae_scale_factor"]
    n = len(prompts)
    ids = torch.tensor([data.encode(vocab, p, L) for p in [""] * n + prompts])
    ctx = te(ids)
    ac = alphas_cumprod(sched)
    T = sched["num_train_timesteps"]
    timesteps = [int(round(T - i * T / steps)) - 1 for i in range(steps)]
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, C, spec["default_height"] // f, spec["default_width"] // f, generator=g)
    for t in timesteps:
        eps = un(torch.cat([x, x]), torch.full((2 * n,), float(t)), ctx)
        eps = eps[:n] + guidance_scale * (eps[n:] - eps[:n])
        prev = t - T // steps
        a_t = ac[t]
        a_prev = ac[prev] if prev >= 0 else torch.tensor(1.0)
        x0 = (x - (1 - a_t).sqrt() * eps) / a_t.sqrt()
        x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
    img = vd(x / spec["scaling_factor"])
    return (img / 2 + 0.5).clamp(0, 1)


def main(argv: List[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", default="/tmp/stipple-train")
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default=DEFAULT_NAME)
    ap.add_argument("--description", default=DEFAULT_DESCRIPTION)
    ap.add_argument("--default-steps", type=int, default=20)
    ap.add_argument("--default-guidance-scale", type=float, default=3.0)
    ap.add_argument("--default-sampler", default="ddim", choices=SAMPLERS)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    final = os.path.join(args.work_dir, "final.pt")
    if not os.path.exists(final):
        print(f"{final} not found: train first (src/training/train.py)", file=sys.stderr)
        return 2
    state = torch.load(final)
    config = state["config"]
    vae, text_encoder, unet = build_modules(config, len(data.build_vocab()))
    vae.load_state_dict(state["vae"])
    text_encoder.load_state_dict(state["text_encoder"])
    unet.load_state_dict(state["unet"])
    export(args.out, config, vae, text_encoder, unet, state["scaling_factor"], args.name,
           args.description, args.default_steps, args.default_guidance_scale, args.default_sampler)
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript serializes some constants in set-iteration order, which depends on Python's
        # string-hash seed; pin it so that re-exports give byte-identical .pt files
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    sys.exit(main(sys.argv[1:]))
