"""pipeline.json and scheduler_config.json (docs/pipeline-format.md) for an exported checkpoint."""

import json
import os
from typing import Optional

from checkpoint_weights import CheckpointError

FORMAT = "stipple-pipeline/1"

# Request defaults per family. SD 1.x / 2.x: diffusers' pipelines default to 50 steps at guidance
# 7.5; DPM-Solver++ 2M reaches the same quality in about 30. SD-Turbo and SDXL-Turbo (adversarially
# distilled) are made for 1-4 steps without guidance; one step from the trailing t = 999 is the model
# cards' recommended use, with SDXL-Turbo's Euler ancestral (SD-Turbo's Euler config gives euler,
# below: one step from σ_max to 0 is the same in both). LCM (a U-Net with time_cond_proj_dim: the guidance scale is an
# input, not classifier-free guidance): diffusers' LatentConsistencyModelPipeline.__call__ defaults,
# 4 steps at guidance_scale 8.5, with LCMScheduler. SDXL: StableDiffusionXLPipeline.__call__'s 50
# steps at guidance 5.0, with the sampler of the checkpoint's scheduler (below).
FAMILY_DEFAULTS = {
    "sd": {"default_steps": 30, "default_guidance_scale": 7.5, "default_sampler": "dpmpp_2m"},
    "turbo": {"default_steps": 1, "default_guidance_scale": 0.0, "default_sampler": "euler_a"},
    "lcm": {"default_steps": 4, "default_guidance_scale": 8.5, "default_sampler": "lcm"},
    "sdxl": {"default_steps": 50, "default_guidance_scale": 5.0, "default_sampler": "euler"},
}
# The Stipple samplers that reproduce other scheduler classes an SDXL fine-tune may ship: the SDXL
# family steps with the checkpoint's own, as StableDiffusionXLPipeline does (SD 1.x / 2.x keep dpmpp_2m).
SDXL_SAMPLERS = {
    "EulerAncestralDiscreteScheduler": "euler_a",
    "DDIMScheduler": "ddim",
    "DPMSolverMultistepScheduler": "dpmpp_2m",
}

# The keys Stipple's samplers read, with the defaults of the diffusers class a checkpoint's scheduler
# config names (diffusers 0.25). A key that class does not have is left out, so that each sampler
# falls back to its own class's default, as `Sampler.from_config(scheduler.config)` would.
_COMMON = {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
           "trained_betas": None, "prediction_type": "epsilon", "steps_offset": 0}
SCHEDULER_DEFAULTS = {
    "PNDMScheduler": dict(_COMMON, timestep_spacing="leading", set_alpha_to_one=False),
    "DDIMScheduler": dict(_COMMON, timestep_spacing="leading", set_alpha_to_one=True),
    "DDPMScheduler": dict(_COMMON, timestep_spacing="leading"),
    "DPMSolverMultistepScheduler": dict(_COMMON, timestep_spacing="linspace"),
    "EulerDiscreteScheduler": dict(_COMMON, timestep_spacing="linspace"),
    "EulerAncestralDiscreteScheduler": dict(_COMMON, timestep_spacing="linspace"),
    "LMSDiscreteScheduler": dict(_COMMON, timestep_spacing="linspace"),
    "UniPCMultistepScheduler": dict(_COMMON, timestep_spacing="linspace"),
    # its own schedule defaults (SD's), and the two keys only the lcm sampler reads
    "LCMScheduler": dict(_COMMON, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                         timestep_spacing="leading", set_alpha_to_one=True, original_inference_steps=50,
                         timestep_scaling=10.0),
}
# options of the source class that Stipple's samplers implement in one setting only: any other value is refused
# (EulerDiscreteScheduler's are the euler sampler's: a checkpoint whose own scheduler cannot be matched is not
# exported under its name)
SUPPORTED_OPTIONS = {
    "LCMScheduler": {"thresholding": False, "rescale_betas_zero_snr": False},
    "EulerDiscreteScheduler": {"interpolation_type": "linear", "timestep_type": "discrete",
                               "rescale_betas_zero_snr": False, "sigma_min": None, "sigma_max": None},
}


def scheduler_config(source: dict, path: str) -> dict:
    """The source's schedule with every key explicit; clip_sample false because DDIMScheduler's
    default (true) would clip x̂₀, which SD checkpoints never intend (their DDIM configs say false)."""
    class_name = source.get("_class_name")
    if class_name not in SCHEDULER_DEFAULTS:
        raise CheckpointError(f"{path}: unsupported _class_name = {class_name!r} "
                              f"(known: {', '.join(SCHEDULER_DEFAULTS)})")
    for key, supported in SUPPORTED_OPTIONS.get(class_name, {}).items():
        if source.get(key) is not None and source[key] != supported:
            raise CheckpointError(f"{path}: unsupported {key} = {source[key]!r} (supported: {supported!r})")
    out = {"_class_name": class_name}
    for key, default in SCHEDULER_DEFAULTS[class_name].items():
        out[key] = source.get(key, default)
    if out["beta_schedule"] not in ("linear", "scaled_linear", "squaredcos_cap_v2"):
        raise CheckpointError(f"{path}: unsupported beta_schedule = {out['beta_schedule']!r}")
    if out["prediction_type"] not in ("epsilon", "v_prediction"):
        raise CheckpointError(f"{path}: unsupported prediction_type = {out['prediction_type']!r}")
    if out["timestep_spacing"] not in ("leading", "trailing", "linspace"):
        raise CheckpointError(f"{path}: unsupported timestep_spacing = {out['timestep_spacing']!r}")
    if "original_inference_steps" in out:
        steps = out["original_inference_steps"]
        if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= out["num_train_timesteps"]:
            raise CheckpointError(f"{path}: unsupported original_inference_steps = {steps!r} "
                                  f"(1 to num_train_timesteps = {out['num_train_timesteps']})")
    if "timestep_scaling" in out:
        scaling = out["timestep_scaling"]
        if not isinstance(scaling, (int, float)) or isinstance(scaling, bool) or not scaling > 0:
            raise CheckpointError(f"{path}: unsupported timestep_scaling = {scaling!r}")
    out["clip_sample"] = False
    return out


def default_sampler(family: str, source: dict) -> str:
    """The family's sampler, except that a checkpoint whose scheduler is EulerDiscreteScheduler (SDXL base's, for
    one) keeps it, as diffusers' pipelines would: euler, or euler_karras with use_karras_sigmas; an SDXL checkpoint
    keeps Euler ancestral, DDIM and DPM-Solver++ (with its Karras sigmas) too. An LCM U-Net is sampled with lcm
    whatever its config says."""
    class_name, karras = source.get("_class_name"), source.get("use_karras_sigmas")
    if family != "lcm" and class_name == "EulerDiscreteScheduler":
        return "euler_karras" if karras else "euler"
    if family == "sdxl" and class_name in SDXL_SAMPLERS:
        sampler = SDXL_SAMPLERS[class_name]
        return "dpmpp_2m_karras" if sampler == "dpmpp_2m" and karras else sampler
    return FAMILY_DEFAULTS[family]["default_sampler"]


def pipeline_json(name: str, description: str, latent_channels: int, vae_scale_factor: int,
                  scaling_factor: float, text_max_length: int, pad_token_id: int, unet_sample_size: int,
                  unet_levels: int, family: str, unet_in_channels: int,
                  time_cond_proj_dim: Optional[int] = None, sampler: Optional[str] = None, *,
                  second_encoder: Optional[dict] = None, max_clip_skip: int = 0) -> dict:
    """`second_encoder`: SDXL's keys (pad_token_id_2, addition_embed_type, force_zeros_for_empty_prompt);
    `max_clip_skip` > 0: the text encoders take clip_skip (docs/pipeline-format.md); `sampler`: the
    default sampler where it is not the family's (default_sampler)."""
    spec = {
        "format": FORMAT,
        "name": name,
        "description": description,
        "latent_channels": latent_channels,
        "vae_scale_factor": vae_scale_factor,
        "scaling_factor": scaling_factor,
        "text_max_length": text_max_length,
        "pad_token_id": pad_token_id,
        "default_width": unet_sample_size * vae_scale_factor,
        "default_height": unet_sample_size * vae_scale_factor,
        # each U-Net level halves the latents; sizes that do not divide evenly would need the
        # skip-size upsampling that the traced graph leaves out
        "size_multiple": vae_scale_factor * 2 ** (unet_levels - 1),
    }
    if unet_in_channels != latent_channels:
        # an inpainting U-Net: the server feeds it the mask and the masked image's latent (docs/pipeline-format.md)
        spec["unet_in_channels"] = unet_in_channels
    if time_cond_proj_dim is not None:
        # a guidance-embedded (LCM) U-Net: unet.pt takes timestep_cond [B, time_cond_proj_dim] as a 4th input
        spec["time_cond_proj_dim"] = time_cond_proj_dim
    spec.update(second_encoder or {})
    if max_clip_skip > 0:
        spec["max_clip_skip"] = max_clip_skip
    spec.update(FAMILY_DEFAULTS[family])
    if sampler is not None:
        spec["default_sampler"] = sampler
    return spec


def text_max_length(tokenizer_max: Optional[int], max_positions: int) -> int:
    return min(tokenizer_max or max_positions, max_positions)


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def read_json(path: str) -> dict:
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
