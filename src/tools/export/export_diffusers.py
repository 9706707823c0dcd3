#!/usr/bin/env python3
"""Export a Hugging Face diffusers Stable Diffusion 1.x / 2.x or SDXL folder as a Stipple pipeline
directory (docs/pipeline-format.md).

Usage:
    /usr/bin/python3 src/tools/export/export_diffusers.py CHECKPOINT_DIR OUT_DIR \\
        [--dtype float32|float16] [--name NAME] [--description TEXT] [--turbo]

LCM-distilled checkpoints (a U-Net with time_cond_proj_dim and an LCMScheduler config) are exported
with unet.pt's timestep_cond input (diffusers' guidance embedding) and LCM's request defaults. SDXL
checkpoints (text_encoder_2 and a U-Net with addition_embed_type "text_time") are exported with a
second tokenizer and text encoder and unet.pt's text_embeds and time_ids inputs.

CHECKPOINT_DIR holds model_index.json, text_encoder/, tokenizer/, unet/, vae/ and scheduler/ (and
text_encoder_2/, tokenizer_2/ for SDXL). The files are written to a temporary directory beside
OUT_DIR, verified (each .pt reloaded and compared with the eager model at a batch and size other than
the traced ones), then moved in. Anything the exporter does not implement is refused with the config
key and value that need it.
"""

import argparse
import gc
import os
import shutil
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_parts import Parts, build, check_components, parameter_count, request_family  # noqa: E402
from checkpoint_weights import CheckpointError  # noqa: E402
from module_cases import ModuleExport, module_exports  # noqa: E402
import pipeline_files  # noqa: E402
from traced_modules import HalfPrecisionIO, compare, float32_casts, float32_constants, optional_clip_skip, \
    outputs, trace  # noqa: E402

TRACED_TOLERANCE = 1e-4  # relative; a traced graph replays the eager ops, so this is ample
# relative, traced graph vs eager model, both in bfloat16: the same ops in the same order
LOW_PRECISION_TOLERANCE = 1e-3


def log(line: str = "") -> None:
    print(line, flush=True)


def export_module(part: ModuleExport, staging: str):
    """Traces, saves, reloads and compares; returns summary lines. The eager module's outputs are taken
    before the saved graph is loaded and the module is dropped from `part`, so that one copy of the
    weights is held at a time (SDXL's U-Net is 10 GB in float32) where no other reference keeps it."""
    name = part.file
    path = os.path.join(staging, name)
    module = HalfPrecisionIO(part.module, part.cast) if part.dtype == "float16" else part.module
    part.module = None
    traced = trace(module, part.example)
    torch.jit.save(optional_clip_skip(traced) if part.clip_skip else traced, path)
    del traced
    expected = outputs(module, part.cases)
    if part.dtype == "float16":
        # float16 convolutions do not run on the CPU; bfloat16 ones do, and a graph that runs and
        # matches the eager model with its weights cast to bfloat16 has no float32 leftovers that
        # would meet float16 tensors. The eager model is not needed in float32 any more.
        expected_low = outputs(module.to(torch.bfloat16), part.cases)
    del module
    gc.collect()  # tracing leaves reference cycles that hold the eager weights
    saved = torch.jit.load(path)
    errors = compare(saved, expected, part.cases)
    worst = max(errors.values())
    if not worst <= TRACED_TOLERANCE:  # NaN too
        raise RuntimeError(f"{name}: traced graph differs from the eager model: {errors}")
    lines = [f"{name}: traced vs eager max relative error {worst:.1e} "
             f"({', '.join(f'{k} {v:.1e}' for k, v in errors.items())})"]
    if part.dtype == "float16":
        constants = float32_constants(saved)
        if constants:
            raise RuntimeError(f"{name}: float32 tensor constants in a float16 graph: {constants}")
        low = compare(saved.to(torch.bfloat16), expected_low, part.cases)
        if not max(low.values()) <= LOW_PRECISION_TOLERANCE:  # NaN too
            raise RuntimeError(f"{name}: as bfloat16 the graph differs from the eager model by {low}")
        saved.half()
        torch.jit.save(saved, path)
        lines.append(f"{name}: float16 weights; no float32 tensor constants; {float32_casts(saved)} "
                     f"float32 casts; bfloat16 graph vs bfloat16 eager {max(low.values()):.1e}")
    del saved
    return lines


def describe_text_encoders(parts: Parts) -> str:
    described = []
    for encoder in parts.encoders:
        c = encoder.config
        openai = c.get("hidden_act", "quick_gelu") == "quick_gelu"
        kind = "OpenAI CLIP" if openai else "OpenCLIP"
        if not parts.sdxl:
            kind += " (SD 1.x-like)" if openai else " (SD 2.x-like)"
        projection = f", projection {c['projection_dim']}" if encoder.module.text_projection is not None else ""
        described.append(f"{kind}, {c['num_hidden_layers']} layers, width {c['hidden_size']}{projection}")
    if parts.sdxl:
        return "text encoders (SDXL, penultimate layers): " + "; ".join(described)
    return "text encoder: " + described[0]


def pipeline_spec(parts: Parts, name: str, description: str, family: str, scheduler_source: dict) -> dict:
    first = parts.encoders[0]
    second_encoder = None
    if parts.sdxl:
        second_encoder = {"pad_token_id_2": parts.encoders[1].tokenizer.pad_id, "addition_embed_type": "text_time",
                          "force_zeros_for_empty_prompt": parts.force_zeros_for_empty_prompt()}
    return pipeline_files.pipeline_json(
        name, description, parts.vae_config.latent_channels, parts.vae_config.scale_factor,
        parts.vae_config.scaling_factor, first.length, first.tokenizer.pad_id, parts.unet_config.sample_size,
        len(parts.unet_config.channels), family, parts.unet_config.in_channels, parts.unet_config.time_cond_proj_dim,
        pipeline_files.default_sampler(family, scheduler_source), second_encoder=second_encoder,
        max_clip_skip=parts.max_clip_skip())


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    ap.add_argument("--name")
    ap.add_argument("--description")
    ap.add_argument("--turbo", action="store_true",
                    help="SD-Turbo / SDXL-Turbo request defaults (1 step, guidance 0, euler_a) instead of SD's")
    args = ap.parse_args(argv)
    start = time.time()
    checkpoint = os.path.abspath(args.checkpoint)
    name = args.name or os.path.basename(checkpoint.rstrip("/"))
    unet_path = os.path.join(checkpoint, "unet", "config.json")
    scheduler_path = os.path.join(checkpoint, "scheduler", "scheduler_config.json")
    try:
        check_components(checkpoint)
        scheduler_source = pipeline_files.read_json(scheduler_path)
        scheduler = pipeline_files.scheduler_config(scheduler_source, scheduler_path)
        parts = build(checkpoint)
        family = request_family(parts.unet_config, parts.sdxl, scheduler, args.turbo, unet_path, scheduler_path)
    except CheckpointError as e:
        print(f"refused: {e}", file=sys.stderr)
        return 2
    if "turbo" in name.lower() and not args.turbo:
        log(f"note: '{name}' looks like a Turbo model; pass --turbo for its 1-step defaults")
    if family != "lcm" and scheduler["_class_name"] == "LCMScheduler":
        log("note: an LCMScheduler config with a U-Net without time_cond_proj_dim (an LCM-LoRA merge?): "
            f"exported with the {family} request defaults and classifier-free guidance")
    log(describe_text_encoders(parts))
    log(parts.unet_config.describe())
    log(parts.vae_config.describe())
    log(f"scheduler: {scheduler['_class_name']}, {scheduler['prediction_type']}, "
        f"{scheduler['timestep_spacing']} spacing; family {family}; dtype {args.dtype}")
    exports = module_exports(parts, args.dtype)
    log("parameters: " + ", ".join(f"{p.file[:-3]} {parameter_count(p.module):,d}" for p in exports))
    xl = " XL" if parts.sdxl else ""
    spec = pipeline_spec(parts, name, args.description or f"Stable Diffusion{xl} checkpoint {name}"
                         f"{' (LCM-distilled U-Net)' if family == 'lcm' else ''}, exported from diffusers format "
                         f"in {args.dtype}", family, scheduler_source)
    out = os.path.abspath(args.out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        pipeline_files.write_json(os.path.join(staging, "pipeline.json"), spec)
        pipeline_files.write_json(os.path.join(staging, "scheduler_config.json"), scheduler)
        for i, encoder in enumerate(parts.encoders):
            with open(os.path.join(staging, f"tokenizer{'_2' if i else ''}.json"), "w", encoding="utf-8") as fh:
                fh.write(encoder.tokenizer.json_text)
        del parts  # the modules live on in `exports` only, each dropped once exported
        for part in exports:
            for line in export_module(part, staging):
                log(line)
            if part.dtype != args.dtype:
                log(f"{part.file}: {part.dtype}, as the VAE config's force_upcast asks of SDXL (float16 overflows)")
        os.makedirs(out, exist_ok=True)
        for file in sorted(os.listdir(staging)):
            os.replace(os.path.join(staging, file), os.path.join(out, file))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for file in sorted(os.listdir(out)):
        log(f"  {file:24s} {os.path.getsize(os.path.join(out, file)):>14,d} bytes")
    log(f"exported {out} in {time.time() - start:.1f} s: size multiple {spec['size_multiple']}, default "
        f"{spec['default_width']}x{spec['default_height']}, pad id {spec['pad_token_id']}"
        f"{', ' + str(spec['pad_token_id_2']) if 'pad_token_id_2' in spec else ''}, L = {spec['text_max_length']}, "
        f"clip skip up to {spec.get('max_clip_skip', 0)}")
    return 0


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") != "0":
        # TorchScript serializes some constants in set-iteration order, which depends on Python's
        # string-hash seed; pin it so that re-exports give byte-identical .pt files
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    sys.exit(main(sys.argv[1:]))
