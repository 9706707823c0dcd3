#!/usr/bin/env python3
"""Export a Hugging Face diffusers Stable Diffusion 1.x / 2.x folder as a Stipple pipeline directory
(docs/pipeline-format.md).

Usage:
    /usr/bin/python3 src/tools/export/export_diffusers.py CHECKPOINT_DIR OUT_DIR \\
        [--dtype float32|float16] [--name NAME] [--description TEXT] [--turbo]

LCM-distilled checkpoints (a U-Net with time_cond_proj_dim and an LCMScheduler config) are exported
with a 4-input unet.pt (timestep_cond, diffusers' guidance embedding) and LCM's request defaults.

CHECKPOINT_DIR holds model_index.json, text_encoder/, tokenizer/, unet/, vae/ and scheduler/. The
files are written to a temporary directory beside OUT_DIR, verified (each .pt reloaded and compared
with the eager model at a batch and size other than the traced ones), then moved in. Anything the
exporter does not implement is refused with the config key and value that need it.
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_weights import CheckpointError, load_strict, read_config, weight_files  # noqa: E402
from clip_text import IGNORED_STATE_KEYS, CLIPTextModel, check_text_config  # noqa: E402
from clip_tokenizer_json import build_tokenizer_json, model_max_length, special_tokens, \
    tokenizer_json_text  # noqa: E402
import pipeline_files  # noqa: E402
from traced_modules import HalfPrecisionIO, compare, float32_casts, float32_constants, trace  # noqa: E402
from unet import UNet2DConditionModel, UNetConfig, guidance_scale_embedding  # noqa: E402
from vae import AutoencoderKL, VaeConfig, VaeDecoder, VaeEncoder, rename_old_attention_key  # noqa: E402

REQUIRED_COMPONENTS = ("text_encoder", "tokenizer", "unet", "vae", "scheduler")
# pipeline parts that do not take part in text-to-image generation
IGNORED_COMPONENTS = ("safety_checker", "feature_extractor", "image_encoder")
TRACED_TOLERANCE = 1e-4  # relative; a traced graph replays the eager ops, so this is ample
# relative, traced graph vs eager model, both in bfloat16: the same ops in the same order
LOW_PRECISION_TOLERANCE = 1e-3


def log(line: str = "") -> None:
    print(line, flush=True)


def check_components(checkpoint: str) -> None:
    index = pipeline_files.read_json(os.path.join(checkpoint, "model_index.json"))
    path = os.path.join(checkpoint, "model_index.json")
    for key, value in index.items():
        if key.startswith("_") or key in IGNORED_COMPONENTS or key in REQUIRED_COMPONENTS:
            continue
        if isinstance(value, list) and any(v is not None for v in value):
            raise CheckpointError(f"{path}: unsupported component {key} = {value!r} "
                                  "(Stipple serves one text encoder, a U-Net and a VAE)")
    for key in REQUIRED_COMPONENTS:
        if not os.path.isdir(os.path.join(checkpoint, key)):
            raise CheckpointError(f"{checkpoint}: missing {key}/")


def tokenizer_files(tokenizer_dir: str):
    """(tokenizer.json text, pad token id, model_max_length)."""
    given = os.path.join(tokenizer_dir, "tokenizer.json")
    pad_content = special_tokens(tokenizer_dir)["pad_token"][0]
    if os.path.isfile(given):
        tok = pipeline_files.read_json(given)
        vocab = dict(tok["model"]["vocab"])
        vocab.update({t["content"]: t["id"] for t in tok.get("added_tokens", [])})
        if pad_content not in vocab:
            raise CheckpointError(f"{given}: pad token {pad_content!r} is not in its vocabulary")
        with open(given, encoding="utf-8") as f:
            return f.read(), vocab[pad_content], model_max_length(tokenizer_dir)
    tok, ids = build_tokenizer_json(tokenizer_dir)
    return tokenizer_json_text(tok), ids["pad_token"], model_max_length(tokenizer_dir)


def build(checkpoint: str):
    join = lambda *p: os.path.join(checkpoint, *p)
    text_config = read_config(join("text_encoder"))
    check_text_config(text_config, join("text_encoder", "config.json"))
    unet_config = UNetConfig(read_config(join("unet")), join("unet", "config.json"))
    vae_config = VaeConfig(read_config(join("vae")), join("vae", "config.json"))
    if unet_config.cross_dim != text_config["hidden_size"]:
        raise CheckpointError(f"{join('unet', 'config.json')}: cross_attention_dim = {unet_config.cross_dim} "
                              f"but the text encoder's hidden_size is {text_config['hidden_size']}")
    if unet_config.out_channels != vae_config.latent_channels:
        raise CheckpointError(f"{join('unet', 'config.json')}: out_channels = {unet_config.out_channels} "
                              f"but the VAE's latent_channels is {vae_config.latent_channels}")
    text = CLIPTextModel(text_config).eval()
    load_strict(text, weight_files(join("text_encoder")), ignore=IGNORED_STATE_KEYS)
    unet = UNet2DConditionModel(unet_config).eval()
    load_strict(unet, weight_files(join("unet")))
    vae = AutoencoderKL(vae_config).eval()
    load_strict(vae, weight_files(join("vae")), rename=rename_old_attention_key)
    return text_config, text, unet_config, unet, vae_config, vae


def request_family(unet_config: UNetConfig, scheduler: dict, turbo: bool, unet_path: str,
                   scheduler_path: str) -> str:
    """The request defaults: LCM's for a guidance-embedded U-Net (it is sampled with the lcm sampler
    and takes no classifier-free guidance, whatever the name), else SD-Turbo's when asked, else SD's."""
    if not unet_config.time_cond_proj_dim:
        return "turbo" if turbo else "sd"
    if turbo:
        raise CheckpointError(f"{unet_path}: time_cond_proj_dim = {unet_config.time_cond_proj_dim} is an LCM "
                              "U-Net, which takes LCM's defaults; --turbo does not apply")
    if scheduler["_class_name"] != "LCMScheduler":
        # diffusers' LatentConsistencyModelPipeline steps with LCMScheduler only
        raise CheckpointError(f"{scheduler_path}: unsupported _class_name = {scheduler['_class_name']!r} for an "
                              f"LCM U-Net ({unet_path}: time_cond_proj_dim = {unet_config.time_cond_proj_dim}), "
                              "which needs an LCMScheduler config")
    return "lcm"


def export_module(name: str, eager: torch.nn.Module, example, cases, cast, dtype: str, staging: str):
    """Traces, saves, reloads and compares; returns summary lines."""
    path = os.path.join(staging, name)
    module = HalfPrecisionIO(eager, cast) if dtype == "float16" else eager
    torch.jit.save(trace(module, example), path)
    saved = torch.jit.load(path)
    errors = compare(saved, module, cases)
    worst = max(errors.values())
    if not worst <= TRACED_TOLERANCE:  # NaN too
        raise RuntimeError(f"{name}: traced graph differs from the eager model: {errors}")
    lines = [f"{name}: traced vs eager max relative error {worst:.1e} "
             f"({', '.join(f'{k} {v:.1e}' for k, v in errors.items())})"]
    if dtype == "float16":
        constants = float32_constants(saved)
        if constants:
            raise RuntimeError(f"{name}: float32 tensor constants in a float16 graph: {constants}")
        # float16 convolutions do not run on the CPU; bfloat16 ones do, and a graph that runs and
        # matches the eager model with its weights cast to bfloat16 has no float32 leftovers that
        # would meet float16 tensors. The eager model is not needed in float32 any more.
        low = compare(saved.to(torch.bfloat16), module.to(torch.bfloat16), cases)
        if not max(low.values()) <= LOW_PRECISION_TOLERANCE:  # NaN too
            raise RuntimeError(f"{name}: as bfloat16 the graph differs from the eager model by {low}")
        saved.half()
        torch.jit.save(saved, path)
        lines.append(f"{name}: float16 weights; no float32 tensor constants; {float32_casts(saved)} "
                     f"float32 casts; bfloat16 graph vs bfloat16 eager {max(low.values()):.1e}")
    del saved
    return lines


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    ap.add_argument("--name")
    ap.add_argument("--description")
    ap.add_argument("--turbo", action="store_true",
                    help="SD-Turbo request defaults (1 step, guidance 0, euler_a) instead of SD's")
    args = ap.parse_args(argv)
    start = time.time()
    checkpoint = os.path.abspath(args.checkpoint)
    name = args.name or os.path.basename(checkpoint.rstrip("/"))
    try:
        check_components(checkpoint)
        source_scheduler = pipeline_files.read_json(os.path.join(checkpoint, "scheduler", "scheduler_config.json"))
        scheduler = pipeline_files.scheduler_config(source_scheduler,
                                                    os.path.join(checkpoint, "scheduler", "scheduler_config.json"))
        tokenizer_text, pad_id, tokenizer_max = tokenizer_files(os.path.join(checkpoint, "tokenizer"))
        text_config, text, unet_config, unet, vae_config, vae = build(checkpoint)
        family = request_family(unet_config, scheduler, args.turbo, os.path.join(checkpoint, "unet", "config.json"),
                                os.path.join(checkpoint, "scheduler", "scheduler_config.json"))
    except CheckpointError as e:
        print(f"refused: {e}", file=sys.stderr)
        return 2
    if "turbo" in name.lower() and not args.turbo:
        log(f"note: '{name}' looks like SD-Turbo; pass --turbo for its 1-step defaults")
    if family != "lcm" and scheduler["_class_name"] == "LCMScheduler":
        log("note: an LCMScheduler config with a U-Net without time_cond_proj_dim (an LCM-LoRA merge?): "
            f"exported with the {family} request defaults and classifier-free guidance")
    clip = "OpenAI CLIP (SD 1.x-like)" if text_config.get("hidden_act", "quick_gelu") == "quick_gelu" \
        else "OpenCLIP (SD 2.x-like)"
    log(f"text encoder: {clip}, {text_config['num_hidden_layers']} layers, width {text_config['hidden_size']}")
    log(unet_config.describe())
    log(vae_config.describe())
    log(f"scheduler: {scheduler['_class_name']}, {scheduler['prediction_type']}, "
        f"{scheduler['timestep_spacing']} spacing; family {family}; dtype {args.dtype}")

    length = pipeline_files.text_max_length(tokenizer_max, text_config["max_position_embeddings"])
    f = vae_config.scale_factor
    m = unet.size_multiple()
    C, D = vae_config.latent_channels, text_config["hidden_size"]
    spec = pipeline_files.pipeline_json(
        name, args.description or f"Stable Diffusion checkpoint {name} ({clip}"
        f"{', LCM-distilled U-Net' if family == 'lcm' else ''}), exported from diffusers format in {args.dtype}",
        C, f, vae_config.scaling_factor, length, pad_id, unet_config.sample_size, len(unet_config.channels),
        family, unet_config.in_channels, unet_config.time_cond_proj_dim,
        pipeline_files.default_sampler(family, source_scheduler))

    g = torch.Generator().manual_seed(0)
    ids = lambda b: torch.randint(0, text_config["vocab_size"], (b, length), generator=g)
    latents = lambda b, h, w: torch.randn(b, C, h, w, generator=g)
    unet_inputs = lambda b, h, w: torch.randn(b, unet_config.in_channels, h, w, generator=g)
    images = lambda b, h, w: torch.rand(b, 3, h, w, generator=g) * 2 - 1
    context = lambda b: torch.randn(b, length, D, generator=g)
    # 2m: at m x m the lowest level is 1 x 1, and a GroupNorm of one channel per group refuses it
    unet_example = (unet_inputs(1, 2 * m, 2 * m), torch.tensor([500.0]), context(1))
    unet_cases = {"B=2 3m x m": (unet_inputs(2, 3 * m, m), torch.tensor([999.0, 0.5]), context(2)),
                  "B=1 m x 2m": (unet_inputs(1, m, 2 * m), torch.tensor([250.25]), context(1))}
    unet_cast = (True, False, True)
    if unet_config.time_cond_proj_dim:
        # the 4th input, LCM's guidance embedding of w = guidance_scale - 1, a different w per row
        cond = lambda *w: guidance_scale_embedding(torch.tensor(w), unet_config.time_cond_proj_dim)
        unet_example += (cond(7.5),)
        unet_cases = {"B=2 3m x m": unet_cases["B=2 3m x m"] + (cond(7.5, 0.0),),
                      "B=1 m x 2m": unet_cases["B=1 m x 2m"] + (cond(3.0),)}
        unet_cast += (True,)
    parts = [
        ("text_encoder.pt", text, (ids(1),), {"B=3": (ids(3),)}, (False,)),
        ("unet.pt", unet, unet_example, unet_cases, unet_cast),
        ("vae_decoder.pt", VaeDecoder(vae), (latents(1, m, m),), {"B=2 2m x m": (latents(2, 2 * m, m),)}, (True,)),
        ("vae_encoder.pt", VaeEncoder(vae), (images(1, m * f, m * f),),
         {"B=2 2M x M": (images(2, 2 * m * f, m * f),)}, (True,)),
    ]
    out = os.path.abspath(args.out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        pipeline_files.write_json(os.path.join(staging, "pipeline.json"), spec)
        pipeline_files.write_json(os.path.join(staging, "scheduler_config.json"), scheduler)
        with open(os.path.join(staging, "tokenizer.json"), "w", encoding="utf-8") as fh:
            fh.write(tokenizer_text)
        for file, module, example, cases, cast in parts:
            for line in export_module(file, module, example, cases, cast, args.dtype, staging):
                log(line)
        os.makedirs(out, exist_ok=True)
        for file in sorted(os.listdir(staging)):
            os.replace(os.path.join(staging, file), os.path.join(out, file))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for file in sorted(os.listdir(out)):
        log(f"  {file:24s} {os.path.getsize(os.path.join(out, file)):>14,d} bytes")
    log(f"exported {out} in {time.time() - start:.1f} s: size multiple {spec['size_multiple']}, default "
        f"{spec['default_width']}x{spec['default_height']}, pad id {pad_id}, L = {length}")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript serializes some constants in set-iteration order, which depends on Python's
        # string-hash seed; pin it so that re-exports give byte-identical .pt files
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    sys.exit(main(sys.argv[1:]))
