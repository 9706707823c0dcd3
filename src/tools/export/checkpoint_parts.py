"""A diffusers checkpoint folder read into the exporter's modules: which components it has (refusing
those Stipple does not serve), its tokenizers, text encoder(s), U-Net and VAE, checked against each
other. Two text encoders (`text_encoder_2` in model_index.json) make an SDXL pipeline."""

import os
from dataclasses import dataclass
from typing import List, Optional

import torch

from checkpoint_weights import CheckpointError, load_strict, read_config, weight_files
from clip_text import IGNORED_STATE_KEYS, CLIPTextModel, check_text_config
from clip_tokenizer_json import build_tokenizer_json, model_max_length, special_tokens, tokenizer_json_text
import pipeline_files
from unet import UNet2DConditionModel, UNetConfig, unet_model
from vae import AutoencoderKL, VaeConfig, rename_old_attention_key

REQUIRED_COMPONENTS = ("text_encoder", "tokenizer", "unet", "vae", "scheduler")
SECOND_ENCODER = ("text_encoder_2", "tokenizer_2")
# pipeline parts that do not take part in text-to-image generation
IGNORED_COMPONENTS = ("safety_checker", "feature_extractor", "image_encoder")
# what the components of other diffusers pipelines are, for the refusal's message
OTHER_COMPONENTS = {
    "controlnet": "ControlNet",
    "adapter": "T2I-Adapter",
    "transformer": "a diffusion transformer (SD3, FLUX)",
    "text_encoder_3": "a third text encoder (SD3)",
    "tokenizer_3": "a third tokenizer (SD3)",
}
SUPPORTED = ("Stipple exports Stable Diffusion 1.x / 2.x and SDXL text-to-image checkpoints: text_encoder, "
             "tokenizer, unet, vae and scheduler, and SDXL's text_encoder_2 and tokenizer_2")


def _listed(index: dict, key: str) -> bool:
    value = index.get(key)
    return isinstance(value, list) and any(v is not None for v in value)


def check_components(checkpoint: str) -> dict:
    """model_index.json, after refusing what Stipple does not serve; names the key that shows it."""
    path = os.path.join(checkpoint, "model_index.json")
    index = pipeline_files.read_json(path)
    if index.get("requires_aesthetics_score"):
        raise CheckpointError(f"{path}: unsupported requires_aesthetics_score = "
                              f"{index['requires_aesthetics_score']!r} (an SDXL refiner, conditioned on "
                              f"aesthetic scores; {SUPPORTED})")
    for key, value in index.items():
        if key.startswith("_") or key in IGNORED_COMPONENTS + REQUIRED_COMPONENTS + SECOND_ENCODER:
            continue
        if _listed(index, key):
            what = f"{OTHER_COMPONENTS[key]}; " if key in OTHER_COMPONENTS else ""
            raise CheckpointError(f"{path}: unsupported component {key} = {value!r} ({what}{SUPPORTED})")
    second = [key for key in SECOND_ENCODER if _listed(index, key)]
    if len(second) == 1:
        raise CheckpointError(f"{path}: {second[0]} without {set(SECOND_ENCODER).difference(second).pop()}")
    for key in REQUIRED_COMPONENTS + tuple(second):
        if not os.path.isdir(os.path.join(checkpoint, key)):
            raise CheckpointError(f"{checkpoint}: missing {key}/")
    return index


@dataclass
class Tokenizer:
    json_text: str
    pad_id: int
    eos_id: int
    max_length: Optional[int]


def read_tokenizer(tokenizer_dir: str) -> Tokenizer:
    """tokenizer.json as given, or built the way transformers' CLIPConverter builds it."""
    given = os.path.join(tokenizer_dir, "tokenizer.json")
    specials = special_tokens(tokenizer_dir)
    if os.path.isfile(given):
        tok = pipeline_files.read_json(given)
        vocab = dict(tok["model"]["vocab"])
        vocab.update({t["content"]: t["id"] for t in tok.get("added_tokens", [])})
        ids = {}
        for name in ("pad_token", "eos_token"):
            content = specials[name][0]
            if content not in vocab:
                raise CheckpointError(f"{given}: {name} {content!r} is not in its vocabulary")
            ids[name] = vocab[content]
        with open(given, encoding="utf-8") as f:
            text = f.read()
    else:
        tok, ids = build_tokenizer_json(tokenizer_dir)
        text = tokenizer_json_text(tok)
    return Tokenizer(text, ids["pad_token"], ids["eos_token"], model_max_length(tokenizer_dir))


@dataclass
class TextEncoder:
    config: dict
    module: CLIPTextModel
    tokenizer: Tokenizer
    length: int  # L: the tokenizer's model_max_length capped by the encoder's positions


def read_text_encoder(checkpoint: str, number: str, sdxl: bool) -> TextEncoder:
    """text_encoder{number} and tokenizer{number}. SDXL's encoders give hidden_states[-2]; its second,
    CLIPTextModelWithProjection, also the pooled text_embeds, at argmax(ids), which is the first EOS
    only where EOS is the largest id the encoder embeds (CLIP's vocabulary)."""
    folder = os.path.join(checkpoint, "text_encoder" + number)
    config = read_config(folder)
    projection = number == "_2"
    check_text_config(config, os.path.join(folder, "config.json"),
                      "CLIPTextModelWithProjection" if projection else "CLIPTextModel")
    tokenizer = read_tokenizer(os.path.join(checkpoint, "tokenizer" + number))
    if projection and tokenizer.eos_id != config["vocab_size"] - 1:
        raise CheckpointError(f"{os.path.join(checkpoint, 'tokenizer' + number)}: eos_token id {tokenizer.eos_id} "
                              f"is not the largest id ({config['vocab_size'] - 1}, vocab_size - 1), where "
                              "CLIP's pooling at argmax(ids) finds the first EOS")
    module = CLIPTextModel(config, penultimate=sdxl, projection=projection).eval()
    load_strict(module, weight_files(folder), ignore=IGNORED_STATE_KEYS)
    length = pipeline_files.text_max_length(tokenizer.max_length, config["max_position_embeddings"])
    return TextEncoder(config, module, tokenizer, length)


@dataclass
class Parts:
    index: dict  # model_index.json
    encoders: List[TextEncoder]  # one, or SDXL's two
    unet_config: UNetConfig
    unet: UNet2DConditionModel
    vae_config: VaeConfig
    vae: AutoencoderKL

    @property
    def sdxl(self) -> bool:
        return len(self.encoders) == 2

    def max_clip_skip(self) -> int:
        return min(e.module.max_clip_skip() for e in self.encoders)

    def force_zeros_for_empty_prompt(self) -> bool:
        # StableDiffusionXLPipeline.__init__'s default where model_index.json does not say
        return bool(self.index.get("force_zeros_for_empty_prompt", True))


def build(checkpoint: str) -> Parts:
    index = check_components(checkpoint)
    sdxl = _listed(index, "text_encoder_2")
    join = lambda *p: os.path.join(checkpoint, *p)
    unet_path = join("unet", "config.json")
    unet_config = UNetConfig(read_config(join("unet")), unet_path)
    vae_config = VaeConfig(read_config(join("vae")), join("vae", "config.json"))
    if sdxl and unet_config.addition_embed_type != "text_time":
        raise CheckpointError(f"{unet_path}: unsupported addition_embed_type = {unet_config.addition_embed_type!r} "
                              "with text_encoder_2 in model_index.json (two text encoders are SDXL's, whose "
                              "U-Net has addition_embed_type 'text_time')")
    if not sdxl and unet_config.addition_embed_type is not None:
        raise CheckpointError(f"{unet_path}: unsupported addition_embed_type = {unet_config.addition_embed_type!r} "
                              "without text_encoder_2 in model_index.json (SDXL's text_time conditioning needs "
                              "its second text encoder's pooled embeddings)")
    encoders = [read_text_encoder(checkpoint, number, sdxl) for number in (("", "_2") if sdxl else ("",))]
    _check_widths(encoders, unet_config, vae_config, unet_path)
    unet = unet_model(unet_config).eval()
    load_strict(unet, weight_files(join("unet")))
    vae = AutoencoderKL(vae_config).eval()
    load_strict(vae, weight_files(join("vae")), rename=rename_old_attention_key)
    return Parts(index, encoders, unet_config, unet, vae_config, vae)


def _check_widths(encoders: List[TextEncoder], unet: UNetConfig, vae: VaeConfig, unet_path: str) -> None:
    widths = [e.config["hidden_size"] for e in encoders]
    if unet.cross_dim != sum(widths):
        raise CheckpointError(f"{unet_path}: cross_attention_dim = {unet.cross_dim} but the text encoders' "
                              f"hidden_size is {' + '.join(map(str, widths))}")
    if len({e.length for e in encoders}) > 1:
        raise CheckpointError(f"{unet_path}: the text encoders take {[e.length for e in encoders]} tokens; "
                              "Stipple pads both prompts to one length")
    if unet.addition_embed_type == "text_time":
        pooled = encoders[1].config["projection_dim"]
        expected = pooled + 6 * unet.addition_time_embed_dim
        if unet.projection_class_embeddings_input_dim != expected:
            raise CheckpointError(
                f"{unet_path}: unsupported projection_class_embeddings_input_dim = "
                f"{unet.projection_class_embeddings_input_dim} (SDXL's text_time conditioning takes text_embeds "
                f"({pooled}) and 6 time ids x addition_time_embed_dim ({unet.addition_time_embed_dim}) = {expected})")
    if unet.out_channels != vae.latent_channels:
        raise CheckpointError(f"{unet_path}: out_channels = {unet.out_channels} "
                              f"but the VAE's latent_channels is {vae.latent_channels}")


def request_family(unet_config: UNetConfig, sdxl: bool, scheduler: dict, turbo: bool, unet_path: str,
                   scheduler_path: str) -> str:
    """The request defaults: LCM's for a guidance-embedded U-Net (it is sampled with the lcm sampler
    and takes no classifier-free guidance, whatever the name), else Turbo's when asked, else SD's or
    SDXL's."""
    if not unet_config.time_cond_proj_dim:
        return "turbo" if turbo else "sdxl" if sdxl else "sd"
    if turbo:
        raise CheckpointError(f"{unet_path}: time_cond_proj_dim = {unet_config.time_cond_proj_dim} is an LCM "
                              "U-Net, which takes LCM's defaults; --turbo does not apply")
    if scheduler["_class_name"] != "LCMScheduler":
        # diffusers' LatentConsistencyModelPipeline steps with LCMScheduler only
        raise CheckpointError(f"{scheduler_path}: unsupported _class_name = {scheduler['_class_name']!r} for an "
                              f"LCM U-Net ({unet_path}: time_cond_proj_dim = {unet_config.time_cond_proj_dim}), "
                              "which needs an LCMScheduler config")
    return "lcm"


def vae_dtype(parts: Parts, dtype: str) -> str:
    """SDXL's VAE overflows in float16: diffusers' SDXL pipelines decode (and encode) in float32 when its
    config says force_upcast (AutoencoderKL's default); SD 1.x / 2.x pipelines ignore the key."""
    return "float32" if parts.sdxl and parts.vae_config.force_upcast else dtype


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
