#!/usr/bin/env python3
"""A tiny guidance-embedded (LCM-distilled) SD 1.x-like checkpoint in diffusers layout and what diffusers'
own classes compute with it, for src/tools/export's tests.

Usage:
    git --git-dir=DIFFUSERS_GIT archive v0.25.1 src | tar -x -C /tmp/diffusers-0.25.1
    /usr/bin/python3 src/tools/reference/make_lcm_reference.py /tmp/diffusers-0.25.1/src \\
        [OUT_DIR (default src/test/resources/sd-reference/lcm-tiny)]

Offline with torch 1.13 + numpy only, importing diffusers as make_sd_reference.py does (stub modules
for the packages these classes do not use). What a real LCM checkpoint (SimianLuo/LCM_Dreamshaper_v7)
has and sd15-tiny has not:

- `unet/config.json` with `time_cond_proj_dim: 256`: diffusers v0.25.1's real `UNet2DConditionModel`,
  whose `time_embedding.cond_proj` (Linear(256, 16, bias=False)) adds the projected `timestep_cond` to
  the sinusoidal timestep embedding;
- `scheduler/scheduler_config.json` written by diffusers' real `LCMScheduler` (SD 1.5's schedule,
  `steps_offset` 1, with LCMScheduler's `original_inference_steps` 50 and `timestep_scaling` 10.0);
- `model_index.json` of a `LatentConsistencyModelPipeline`.

The U-Net's weights are stored in float16 (the goldens use the same float16-rounded values).

The text encoder and tokenizer are sd15-tiny's files (copied; their goldens are sd15-tiny's); the VAE
is a small diffusers `AutoencoderKL` (4 levels, so vae_scale_factor 8 as in SD). The guidance
embedding of the goldens (`timestep_cond`) is diffusers' own
`LatentConsistencyModelPipeline.get_guidance_scale_embedding`, taken from the pipeline's source with
`ast` (the pipeline module imports transformers), with w = guidance_scale - 1 as the pipeline does.
"""

import ast
import json
import os
import shutil
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_sd_reference as sd  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402  (make_sd_reference put the exporter on the path)

SEED = 2025
TIME_COND_PROJ_DIM = 256  # LCM_Dreamshaper_v7's
UNET_CONFIG = dict(
    sample_size=8, in_channels=4, out_channels=4, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(16, 32, 32), layers_per_block=1, norm_num_groups=8, cross_attention_dim=32,
    attention_head_dim=2, time_cond_proj_dim=TIME_COND_PROJ_DIM,
)
VAE_CONFIG = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 4,
    up_block_types=("UpDecoderBlock2D",) * 4, block_out_channels=(8, 8, 16, 16), layers_per_block=1,
    latent_channels=4, norm_num_groups=8, sample_size=64,
)
SCHEDULER_CONFIG = dict(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1,
                        original_inference_steps=50, timestep_scaling=10.0)
MODEL_INDEX = {
    "_class_name": "LatentConsistencyModelPipeline", "_diffusers_version": None,
    "feature_extractor": [None, None], "image_encoder": [None, None], "requires_safety_checker": False,
    "safety_checker": [None, None], "scheduler": ["diffusers", "LCMScheduler"],
    "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
    "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"],
}


def guidance_embedding_function(src: str):
    """diffusers' LatentConsistencyModelPipeline.get_guidance_scale_embedding, compiled from its source."""
    path = os.path.join(src, "diffusers", "pipelines", "latent_consistency_models",
                        "pipeline_latent_consistency_text2img.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    pipeline = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "LatentConsistencyModelPipeline")
    function = next(n for n in pipeline.body
                    if isinstance(n, ast.FunctionDef) and n.name == "get_guidance_scale_embedding")
    namespace = {"torch": torch}
    exec(compile(ast.Module(body=[function], type_ignores=[]), path, "exec"), namespace)
    return lambda w, dim: namespace["get_guidance_scale_embedding"](None, w, embedding_dim=dim)


def write_json_text(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def build_modules(UNet, AutoencoderKL, unet_config: dict, g: torch.Generator):
    """diffusers' U-Net (with the float16-rounded weights its checkpoint stores) and a VAE of VAE_CONFIG."""
    unet = UNet(**unet_config).eval()
    vae = AutoencoderKL(**VAE_CONFIG).eval()
    for module in (unet, vae):
        sd.perturb_constants(module, g)
    with torch.no_grad():
        for p in unet.parameters():  # the checkpoint stores float16 (as fp16 variants do): compute with those
            p.copy_(p.half().float())
    return unet, vae


def write_checkpoint(out: str, model_index: dict, unet, vae, sd15_components) -> str:
    """out/checkpoint in diffusers layout (U-Net weights in float16), with sd15-tiny's files for the components
    named; returns the checkpoint folder."""
    shutil.rmtree(out, ignore_errors=True)
    ck = os.path.join(out, "checkpoint")
    sd.save_config(os.path.join(ck, "model_index.json"), model_index)
    write_json_text(os.path.join(ck, "unet", "config.json"), unet.to_json_string())
    write_json_text(os.path.join(ck, "vae", "config.json"), vae.to_json_string())
    write_safetensors(os.path.join(ck, "unet", "diffusion_pytorch_model.safetensors"),
                      {k: v.half() for k, v in unet.state_dict().items()}, {"format": "pt"})
    write_safetensors(os.path.join(ck, "vae", "diffusion_pytorch_model.safetensors"), vae.state_dict(),
                      {"format": "pt"})
    for component in sd15_components:
        shutil.copytree(os.path.join(sd.SD15, "checkpoint", component), os.path.join(ck, component))
    return ck


class Goldens:
    """The arrays of golden.npz and, for golden.json, what each one is."""

    def __init__(self):
        self.arrays, self.what = {}, {}

    def put(self, name, value, description):
        self.arrays[name] = value.detach().numpy()
        self.what[name] = {"shape": list(value.shape), "dtype": str(self.arrays[name].dtype), "what": description}

    def put_vae(self, vae, g: torch.Generator, version: str) -> None:
        z = torch.randn((2, 4, 4, 8), generator=g)
        self.put("vae.decode.z", z, "input: torch.randn, fed as is (already divided by scaling_factor)")
        self.put("vae.decode.out", vae.decode(z).sample, f"diffusers {version} AutoencoderKL.decode(z).sample")
        x = torch.rand((1, 3, 32, 64), generator=g) * 2 - 1
        self.put("vae.encode.x", x, "input: U[-1, 1)")
        self.put("vae.encode.mean", vae.encode(x).latent_dist.mean,
                 f"diffusers {version} AutoencoderKL.encode(x).latent_dist.mean (not scaled)")

    def save(self, out: str, description: dict) -> None:
        np.savez_compressed(os.path.join(out, "golden.npz"), **self.arrays)
        sd.save_config(os.path.join(out, "golden.json"), dict(description, arrays=self.what))


def main(argv) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    src = argv[0]
    out = os.path.abspath(argv[1]) if len(argv) > 1 else \
        os.path.join(sd.REPO, "src", "test", "resources", "sd-reference", "lcm-tiny")
    UNet, AutoencoderKL, version = sd.import_diffusers(src)
    from diffusers.schedulers.scheduling_lcm import LCMScheduler
    embed = guidance_embedding_function(src)
    torch.baddbmm = sd._baddbmm_without_nan(torch.baddbmm)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    unet, vae = build_modules(UNet, AutoencoderKL, UNET_CONFIG, g)
    scheduler = LCMScheduler(**SCHEDULER_CONFIG)

    ck = write_checkpoint(out, dict(MODEL_INDEX, _diffusers_version=version), unet, vae, ("text_encoder", "tokenizer"))
    write_json_text(os.path.join(ck, "scheduler", "scheduler_config.json"), scheduler.to_json_string())

    goldens = Goldens()
    put, arrays = goldens.put, goldens.arrays
    call = f"diffusers {version} UNet2DConditionModel(sample, timestep, encoder_hidden_states, timestep_cond).sample"
    with torch.no_grad():
        w = torch.tensor([7.5, 1.0, 0.0, 3.0, 0.5, 14.0])
        put("guidance.w", w, "input: w = guidance_scale - 1")
        put("guidance.embedding", embed(w, TIME_COND_PROJ_DIM),
            f"diffusers {version} LatentConsistencyModelPipeline.get_guidance_scale_embedding(w, "
            f"embedding_dim={TIME_COND_PROJ_DIM})")
        # latents: multiples of size_multiple / vae_scale_factor = 4; guidance scales per row
        cases = {"a": ((2, 4, 8, 8), [999.0, 259.0], [8.5, 2.0]),
                 "b": ((1, 4, 4, 12), [499.5], [1.0]),
                 "c": ((3, 4, 12, 4), [759.0, 19.0, 0.0], [8.5, 4.0, 1.5])}
        for case, (shape, timesteps, guidance) in cases.items():
            sample = torch.randn(shape, generator=g)
            enc = torch.randn(shape[0], 77, 32, generator=g)
            t = torch.tensor(timesteps)
            cond = embed(torch.tensor(guidance) - 1, TIME_COND_PROJ_DIM)
            put(f"unet.{case}.sample", sample, "input: torch.randn")
            put(f"unet.{case}.timestep", t, "input: per-row float32 timesteps")
            put(f"unet.{case}.encoder_hidden_states", enc, "input: torch.randn")
            put(f"unet.{case}.guidance_scale", torch.tensor(guidance), "input: per-row guidance scales")
            put(f"unet.{case}.timestep_cond", cond, "input: get_guidance_scale_embedding(guidance_scale - 1, "
                f"embedding_dim={TIME_COND_PROJ_DIM})")
            put(f"unet.{case}.out", unet(sample, t, encoder_hidden_states=enc, timestep_cond=cond).sample, call)
            without = unet(sample, t, encoder_hidden_states=enc).sample
            change = float(np.abs(arrays[f"unet.{case}.out"] - without.numpy()).max() / float(without.abs().max()))
            assert change > 1e-2, f"timestep_cond barely changes case {case}: {change}"
        sample = torch.from_numpy(arrays["unet.a.sample"])
        enc = torch.from_numpy(arrays["unet.a.encoder_hidden_states"])
        put("unet.a.out_without_timestep_cond",
            unet(sample, torch.tensor([999.0, 259.0]), encoder_hidden_states=enc).sample,
            f"diffusers {version} UNet2DConditionModel(sample, timestep, encoder_hidden_states).sample with "
            "case a's inputs and timestep_cond=None (cond_proj skipped); equal to timestep_cond = zeros")
        goldens.put_vae(vae, g, version)
    goldens.save(out, {
        "family": "lcm-tiny", "generator": {"diffusers_version": version, "torch_version": torch.__version__,
                                            "seed": SEED, "tool": "src/tools/reference/make_lcm_reference.py"},
        "components": {"text_encoder": "sd15-tiny's files", "tokenizer": "sd15-tiny's files"},
        "contract": {"pad_token_id": 833, "text_max_length": 77, "latent_channels": 4, "vae_scale_factor": 8,
                     "scaling_factor": 0.18215, "size_multiple": 32, "default_width": 64,
                     "time_cond_proj_dim": TIME_COND_PROJ_DIM, "prediction_type": "epsilon"}})
    sd.print_sizes(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
