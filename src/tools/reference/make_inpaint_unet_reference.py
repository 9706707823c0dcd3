#!/usr/bin/env python3
"""A tiny SD 1.x-like inpainting checkpoint (a 9-channel U-Net) in diffusers layout and what diffusers' own classes
compute with it, for the exporter's tests through DJL (src/test/java/io/stipple/export).

Usage:
    git --git-dir=DIFFUSERS_GIT archive v0.25.1 src | tar -x -C /tmp/diffusers-0.25.1
    /usr/bin/python3 src/tools/reference/make_inpaint_unet_reference.py /tmp/diffusers-0.25.1/src \\
        [OUT_DIR (default src/test/resources/sd-reference/inpaint-tiny)]

Offline with torch 1.13 + numpy only, importing diffusers as make_sd_reference.py does. What an inpainting
checkpoint (runwayml/stable-diffusion-inpainting) has and sd15-tiny has not:

- `unet/config.json` with `in_channels: 9`: diffusers v0.25.1's real `UNet2DConditionModel`, whose conv_in reads
  the latent (4 channels), the mask (1) and the masked image's latent (4), in the order
  StableDiffusionInpaintPipeline concatenates them;
- `model_index.json` of a `StableDiffusionInpaintPipeline`.

The U-Net has lcm-tiny's levels (norm_num_groups 8: two or four channels per group, so the time embedding is not
cancelled) without its guidance embedding, and is stored in float16 (the goldens use the same float16-rounded
values); the VAE is a fresh one of lcm-tiny's shape (vae_scale_factor 8). The text encoder, tokenizer and PNDM
scheduler config are sd15-tiny's files (copied; their goldens are sd15-tiny's).

Every input must matter: for case a, each part of the U-Net's input (latent channels, mask, masked-image latent,
timestep, text states) is perturbed and the output must move by at least 1e-3 of its scale (golden.json →
`sensitivity`).
"""

import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_lcm_reference as lcm  # noqa: E402
import make_sd_reference as sd  # noqa: E402

SEED = 2026
LATENT_CHANNELS = 4
UNET_CONFIG = dict(lcm.UNET_CONFIG, in_channels=2 * LATENT_CHANNELS + 1, time_cond_proj_dim=None)
MIN_SENSITIVITY = 1e-3
MODEL_INDEX = dict(lcm.MODEL_INDEX, _class_name="StableDiffusionInpaintPipeline",
                   scheduler=["diffusers", "PNDMScheduler"])


def unet_input(g: torch.Generator, batch: int, height: int, width: int) -> torch.Tensor:
    """[latent, mask, masked-image latent] as the inpaint pipeline concatenates them; the mask is 0 or 1."""
    latent = torch.randn(batch, LATENT_CHANNELS, height, width, generator=g)
    mask = (torch.rand(batch, 1, height, width, generator=g) < 0.5).float()
    masked = torch.randn(batch, LATENT_CHANNELS, height, width, generator=g)
    return torch.cat([latent, mask, masked], dim=1)


def sensitivity(unet, sample, t, enc, g) -> dict:
    """How far each part of the input moves the output: max |Δout| / max |out|."""
    base = unet(sample, t, encoder_hidden_states=enc).sample
    scale = float(base.abs().max())

    def moved(sample2=sample, t2=t, enc2=enc):
        return float((unet(sample2, t2, encoder_hidden_states=enc2).sample - base).abs().max()) / scale

    def channels(lo, hi, change):
        changed = sample.clone()
        changed[:, lo:hi] = change(changed[:, lo:hi])
        return changed

    c = LATENT_CHANNELS
    return {
        "latent (channels 0-3) + 0.1 randn": moved(channels(0, c, lambda x: x + 0.1 * torch.randn(x.shape, generator=g))),
        "mask (channel 4): a quarter of its cells flipped":
            moved(channels(c, c + 1, lambda m: torch.where(torch.rand(m.shape, generator=g) < 0.25, 1 - m, m))),
        "masked-image latent (channels 5-8) + 0.1 randn":
            moved(channels(c + 1, 2 * c + 1, lambda x: x + 0.1 * torch.randn(x.shape, generator=g))),
        "timestep - 10": moved(t2=t - 10),
        "encoder_hidden_states + 0.1 randn": moved(enc2=enc + 0.1 * torch.randn(enc.shape, generator=g)),
    }


def main(argv) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out = os.path.abspath(argv[1]) if len(argv) > 1 else \
        os.path.join(sd.REPO, "src", "test", "resources", "sd-reference", "inpaint-tiny")
    UNet, AutoencoderKL, version = sd.import_diffusers(argv[0])
    torch.baddbmm = sd._baddbmm_without_nan(torch.baddbmm)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    unet, vae = lcm.build_modules(UNet, AutoencoderKL, UNET_CONFIG, g)
    lcm.write_checkpoint(out, dict(MODEL_INDEX, _diffusers_version=version), unet, vae,
                         ("text_encoder", "tokenizer", "scheduler"))

    goldens = lcm.Goldens()
    put, arrays = goldens.put, goldens.arrays
    call = f"diffusers {version} UNet2DConditionModel(sample, timestep, encoder_hidden_states).sample"
    with torch.no_grad():
        # latents: multiples of size_multiple / vae_scale_factor = 4
        cases = {"a": ((2, 8, 8), [999.0, 259.0]), "b": ((1, 4, 12), [499.5]), "c": ((3, 12, 4), [759.0, 19.0, 0.0])}
        for case, ((batch, height, width), timesteps) in cases.items():
            sample = unet_input(g, batch, height, width)
            enc = torch.randn(batch, 77, 32, generator=g)
            t = torch.tensor(timesteps)
            put(f"unet.{case}.sample", sample, "input: [latent randn (4), mask 0/1 (1), masked-image latent randn (4)]")
            put(f"unet.{case}.timestep", t, "input: per-row float32 timesteps")
            put(f"unet.{case}.encoder_hidden_states", enc, "input: torch.randn")
            put(f"unet.{case}.out", unet(sample, t, encoder_hidden_states=enc).sample, call)
        moved = sensitivity(unet, torch.from_numpy(arrays["unet.a.sample"]), torch.tensor(cases["a"][1]),
                            torch.from_numpy(arrays["unet.a.encoder_hidden_states"]), g)
        weak = {part: change for part, change in moved.items() if change < MIN_SENSITIVITY}
        if weak:
            raise RuntimeError(f"inputs that barely move the output: {weak}")
        goldens.put_vae(vae, g, version)
    goldens.save(out, {
        "family": "inpaint-tiny",
        "generator": {"diffusers_version": version, "torch_version": torch.__version__, "seed": SEED,
                      "tool": "src/tools/reference/make_inpaint_unet_reference.py"},
        "components": {"text_encoder": "sd15-tiny's files", "tokenizer": "sd15-tiny's files",
                       "scheduler": "sd15-tiny's files"},
        "contract": {"pad_token_id": 833, "text_max_length": 77, "latent_channels": LATENT_CHANNELS,
                     "unet_in_channels": UNET_CONFIG["in_channels"], "vae_scale_factor": 8, "scaling_factor": 0.18215,
                     "size_multiple": 32, "default_width": 64, "prediction_type": "epsilon"},
        "sensitivity": {"case": "a", "measure": "max |out' - out| / max |out|", "minimum": MIN_SENSITIVITY,
                        "moved": moved}})
    sd.print_sizes(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
