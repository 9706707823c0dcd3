#!/usr/bin/env python3
"""A tiny SD 2.x-like checkpoint in diffusers layout and what diffusers' own classes compute with it,
for src/tools/export's tests (the SD 1.x counterpart, sd15-tiny, came with the project).

Usage:
    git --git-dir=DIFFUSERS_GIT archive v0.25.1 src | tar -x -C /tmp/diffusers-0.25.1
    /usr/bin/python3 src/tools/reference/make_sd_reference.py /tmp/diffusers-0.25.1/src \\
        [OUT_DIR (default src/test/resources/sd-reference/sd2-tiny)]

Runs offline with torch 1.13 + numpy only: the packages diffusers imports but these two classes do
not use (huggingface_hub, safetensors, PIL, tqdm, ...) are replaced by stub modules, and diffusers'
dependency version check is skipped. `UNet2DConditionModel` and `AutoencoderKL` are diffusers
v0.25.1's real classes, built from the config dicts below. transformers cannot be installed, so the
CLIP text model is a transcription of transformers' modeling_clip.py (CLIPTextEmbeddings,
CLIPAttention, CLIPMLP, CLIPEncoderLayer, CLIPTextTransformer with its eager causal mask of
finfo.min), written per head with explicit loops so that it shares no code with the exporter.

diffusers' attention on torch 1.13 CPU calls `torch.baddbmm(torch.empty(...), q, kᵀ, beta=0)`, which
sporadically returns NaN for small matrices; the tool substitutes a zeroed buffer with beta=1 (the
same value).

The checkpoint exercises what sd15-tiny does not: OpenCLIP's "gelu" text activation and the "!"
pad token (SD 2.x), a per-level attention_head_dim list, linear proj_in/proj_out, upcast_attention,
2 transformer layers per block, 3 U-Net levels with layers_per_block 1, flip_sin_to_cos false and
freq_shift 1, a 3-level VAE with layers_per_block 2 and norm_num_groups 8 whose config omits
scaling_factor (0.18215 applies) and whose weights use the pre-0.14 attention names
(query/key/value/proj_attn), U-Net weights stored as float16 safetensors (the goldens use the same
float16-rounded values), a text encoder stored as pytorch_model.bin with the position_ids buffer, and
a DDIMScheduler config with v_prediction and no timestep_spacing (DDIM's default "leading" applies).
"""

import functools
import importlib.abc
import importlib.machinery
import json
import os
import re
import shutil
import sys
import types

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "export"))
from safetensors_io import write_safetensors  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SD15 = os.path.join(REPO, "src", "test", "resources", "sd-reference", "sd15-tiny")
SEED = 2024

TEXT_CONFIG = {
    "architectures": ["CLIPTextModel"], "attention_dropout": 0.0, "bos_token_id": 0, "dropout": 0.0,
    "eos_token_id": 2, "hidden_act": "gelu", "hidden_size": 32, "initializer_factor": 1.0,
    "initializer_range": 0.02, "intermediate_size": 40, "layer_norm_eps": 1e-05,
    "max_position_embeddings": 77, "model_type": "clip_text_model", "num_attention_heads": 4,
    "num_hidden_layers": 2, "pad_token_id": 1, "projection_dim": 32, "torch_dtype": "float32",
    "transformers_version": "4.25.0.dev0", "vocab_size": 834,
}
UNET_CONFIG = dict(
    sample_size=8, in_channels=4, out_channels=4, flip_sin_to_cos=False, freq_shift=1,
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    block_out_channels=(16, 32, 32), layers_per_block=1, norm_num_groups=8, cross_attention_dim=32,
    attention_head_dim=(2, 4, 8), use_linear_projection=True, upcast_attention=True,
    transformer_layers_per_block=2,
)
VAE_CONFIG = dict(
    in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 3,
    up_block_types=("UpDecoderBlock2D",) * 3, block_out_channels=(8, 16, 16), layers_per_block=2,
    latent_channels=4, norm_num_groups=8, sample_size=32,
)
SCHEDULER_CONFIG = {
    "_class_name": "DDIMScheduler", "_diffusers_version": "0.8.0", "beta_end": 0.012,
    "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": False,
    "num_train_timesteps": 1000, "prediction_type": "v_prediction", "set_alpha_to_one": False,
    "skip_prk_steps": True, "steps_offset": 1, "trained_betas": None,
}
MODEL_INDEX = {
    "_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.8.0",
    "feature_extractor": [None, None], "safety_checker": [None, None],
    "scheduler": ["diffusers", "DDIMScheduler"], "text_encoder": ["transformers", "CLIPTextModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"], "unet": ["diffusers", "UNet2DConditionModel"],
    "vae": ["diffusers", "AutoencoderKL"],
}
PAD = "!"  # SD 2.x pads with "!" (id 0), not with <|endoftext|>


# ------------------------------------------------------------------------------------------------
# importing diffusers without its dependencies

class _Anything:
    """Stands in for any attribute of a stubbed package."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return _Anything()

    def __getattr__(self, name):
        return _Anything()

    def __bool__(self):
        return False

    def __mro_entries__(self, bases):
        return (object,)


class _StubModule(types.ModuleType):
    def __getattr__(self, name):
        if name == "__version__":
            return "0.0.0"
        if name.startswith("__"):
            raise AttributeError(name)
        return "/nonexistent" if name.isupper() else _Anything()


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    PACKAGES = ("huggingface_hub", "safetensors", "PIL", "requests", "filelock", "regex",
                "importlib_metadata", "tqdm")

    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in self.PACKAGES:
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _StubModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


@functools.total_ordering
class _Version:
    """packaging.version.Version, as far as diffusers compares versions."""

    def __init__(self, text):
        self.release = tuple(int(x) for x in re.findall(r"\d+", str(text).split("+")[0])[:3]) or (0,)
        self.base_version = ".".join(map(str, self.release))

    def _other(self, other):
        return other.release if isinstance(other, _Version) else _Version(other).release

    def __eq__(self, other):
        return self.release == self._other(other)

    def __lt__(self, other):
        return self.release < self._other(other)

    def __hash__(self):
        return hash(self.release)


def import_diffusers(src: str):
    packaging = types.ModuleType("packaging")
    packaging.__path__ = []
    packaging.version = types.ModuleType("packaging.version")
    packaging.version.parse = packaging.version.Version = _Version
    checks = types.ModuleType("diffusers.dependency_versions_check")
    checks.dep_version_check = lambda *args, **kwargs: None
    sys.modules.update({"packaging": packaging, "packaging.version": packaging.version,
                        "diffusers.dependency_versions_check": checks})
    sys.meta_path.insert(0, _StubFinder())
    sys.path.insert(0, src)
    import diffusers.models.unet_2d_condition as unet_module
    import diffusers.models.autoencoders.autoencoder_kl as vae_module
    version = open(os.path.join(src, "diffusers", "__init__.py")).read()
    return unet_module.UNet2DConditionModel, vae_module.AutoencoderKL, \
        re.search(r'__version__ = "([^"]+)"', version).group(1)


def _baddbmm_without_nan(original):
    def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
        if beta == 0:
            return original(torch.zeros_like(input), batch1, batch2, beta=1, alpha=alpha)
        return original(input, batch1, batch2, beta=beta, alpha=alpha)
    return baddbmm


# ------------------------------------------------------------------------------------------------
# transformers' CLIPTextModel, transcribed

class ClipTextReference(torch.nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        D, I = c["hidden_size"], c["intermediate_size"]
        self.c = c
        self.token = torch.nn.Embedding(c["vocab_size"], D)
        self.position = torch.nn.Embedding(c["max_position_embeddings"], D)
        self.layers = torch.nn.ModuleList()
        for _ in range(c["num_hidden_layers"]):
            layer = torch.nn.Module()
            for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
                setattr(layer, name, torch.nn.Linear(D, D))
            layer.layer_norm1 = torch.nn.LayerNorm(D, eps=c["layer_norm_eps"])
            layer.fc1 = torch.nn.Linear(D, I)
            layer.fc2 = torch.nn.Linear(I, D)
            layer.layer_norm2 = torch.nn.LayerNorm(D, eps=c["layer_norm_eps"])
            self.layers.append(layer)
        self.final_layer_norm = torch.nn.LayerNorm(D, eps=c["layer_norm_eps"])

    def state_dict_transformers(self) -> dict:
        out = dict(self.parameters_transformers(),
                   **{"text_model.embeddings.position_ids": torch.arange(self.c["max_position_embeddings"])[None]})
        return {k: v.detach().clone() for k, v in out.items()}

    def parameters_transformers(self) -> dict:
        """transformers' parameter name -> this module's parameter."""
        out = {"text_model.embeddings.token_embedding.weight": self.token.weight,
               "text_model.embeddings.position_embedding.weight": self.position.weight}
        for i, layer in enumerate(self.layers):
            p = f"text_model.encoder.layers.{i}."
            for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
                for kind in ("weight", "bias"):
                    out[f"{p}self_attn.{name}.{kind}"] = getattr(getattr(layer, name), kind)
            for name in ("layer_norm1", "layer_norm2"):
                for kind in ("weight", "bias"):
                    out[f"{p}{name}.{kind}"] = getattr(getattr(layer, name), kind)
            for name in ("fc1", "fc2"):
                for kind in ("weight", "bias"):
                    out[f"{p}mlp.{name}.{kind}"] = getattr(getattr(layer, name), kind)
        out["text_model.final_layer_norm.weight"] = self.final_layer_norm.weight
        out["text_model.final_layer_norm.bias"] = self.final_layer_norm.bias
        return out

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        """last_hidden_state"""
        return self.final_layer_norm(self.hidden_states(input_ids)[-1])

    def hidden_states(self, input_ids: torch.Tensor) -> list:
        """transformers' output_hidden_states=True: the embeddings, then each layer's output (the last one
        before the final layer norm)."""
        B, L = input_ids.shape
        H = self.c["num_attention_heads"]
        d = self.c["hidden_size"] // H
        act = {"gelu": lambda x: torch.nn.functional.gelu(x),
               "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x)}[self.c["hidden_act"]]
        x = self.token(input_ids) + self.position(torch.arange(L)[None])
        mask = torch.full((L, L), torch.finfo(x.dtype).min).triu(1)
        states = [x]
        for layer in self.layers:
            residual = x
            h = layer.layer_norm1(x)
            q = layer.q_proj(h) * d ** -0.5
            k, v = layer.k_proj(h), layer.v_proj(h)
            heads = []
            for i in range(H):
                s = slice(i * d, (i + 1) * d)
                weights = torch.bmm(q[..., s], k[..., s].transpose(1, 2)) + mask
                heads.append(torch.bmm(torch.softmax(weights, dim=-1), v[..., s]))
            x = residual + layer.out_proj(torch.cat(heads, dim=-1))
            x = x + layer.fc2(act(layer.fc1(layer.layer_norm2(x))))
            states.append(x)
        return states


# ------------------------------------------------------------------------------------------------

def perturb_constants(module: torch.nn.Module, g: torch.Generator) -> None:
    """Norm weights of 1 and zero biases get small random values, so that a dropped or swapped
    affine shows in the outputs."""
    with torch.no_grad():
        for p in module.parameters():
            if p.numel() and bool((p == p.flatten()[0]).all()):
                p.add_(torch.randn(p.shape, generator=g) * 0.1)


def save_config(path: str, config: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")


def write_checkpoint(out: str, text, unet, vae, diffusers_version: str) -> None:
    ck = os.path.join(out, "checkpoint")
    save_config(os.path.join(ck, "model_index.json"), MODEL_INDEX)
    save_config(os.path.join(ck, "scheduler", "scheduler_config.json"), SCHEDULER_CONFIG)
    save_config(os.path.join(ck, "text_encoder", "config.json"), TEXT_CONFIG)
    torch.save(text.state_dict_transformers(), os.path.join(ck, "text_encoder", "pytorch_model.bin"))
    unet_config = dict(unet.config)
    unet_config.update(_class_name="UNet2DConditionModel", _diffusers_version=diffusers_version)
    unet_config.pop("_use_default_values", None)  # save_pretrained leaves it out too
    save_config(os.path.join(ck, "unet", "config.json"), _jsonable(unet_config))
    write_safetensors(os.path.join(ck, "unet", "diffusion_pytorch_model.safetensors"),
                      {k: v.half() for k, v in unet.state_dict().items()}, {"format": "pt"})
    vae_config = dict(vae.config)
    vae_config.update(_class_name="AutoencoderKL", _diffusers_version=diffusers_version)
    vae_config.pop("_use_default_values", None)
    del vae_config["scaling_factor"]
    save_config(os.path.join(ck, "vae", "config.json"), _jsonable(vae_config))
    old_names = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
    vae_state = {}
    for key, value in vae.state_dict().items():
        for new, old in old_names.items():
            key = key.replace(f"mid_block.attentions.0.{new}.", f"mid_block.attentions.0.{old}.")
        vae_state[key] = value
    write_safetensors(os.path.join(ck, "vae", "diffusion_pytorch_model.safetensors"), vae_state,
                      {"format": "pt"})
    tok = os.path.join(ck, "tokenizer")
    os.makedirs(tok, exist_ok=True)
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(os.path.join(SD15, "checkpoint", "tokenizer", name), os.path.join(tok, name))
    special = {name: {"content": content, "lstrip": False, "normalized": True, "rstrip": False,
                      "single_word": False}
               for name, content in (("bos_token", "<|startoftext|>"), ("eos_token", "<|endoftext|>"),
                                     ("unk_token", "<|endoftext|>"))}
    save_config(os.path.join(tok, "special_tokens_map.json"), dict(special, pad_token=PAD))
    save_config(os.path.join(tok, "tokenizer_config.json"), dict(
        {k: dict(v, __type="AddedToken") for k, v in special.items()}, add_prefix_space=False,
        do_lower_case=True, errors="replace", model_max_length=77, pad_token=PAD,
        tokenizer_class="CLIPTokenizer"))


def _jsonable(config: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in config.items()}


def main(argv) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out = os.path.abspath(argv[1]) if len(argv) > 1 else \
        os.path.join(REPO, "src", "test", "resources", "sd-reference", "sd2-tiny")
    UNet, AutoencoderKL, version = import_diffusers(argv[0])
    torch.baddbmm = _baddbmm_without_nan(torch.baddbmm)
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(SEED)
    torch.manual_seed(SEED)
    text = ClipTextReference(TEXT_CONFIG).eval()
    unet = UNet(**UNET_CONFIG).eval()
    vae = AutoencoderKL(**VAE_CONFIG).eval()
    for module in (text, unet, vae):
        perturb_constants(module, g)
    with torch.no_grad():
        for p in unet.parameters():  # the checkpoint stores float16: compute with those values
            p.copy_(p.half().float())
    shutil.rmtree(out, ignore_errors=True)
    write_checkpoint(out, text, unet, vae, version)

    arrays, what = {}, {}

    def put(name, value, description):
        arrays[name] = value.detach().numpy()
        what[name] = {"shape": list(value.shape), "dtype": str(arrays[name].dtype), "what": description}

    with torch.no_grad():
        ids = torch.randint(1, 832, (3, 77), generator=g)
        ids[:, 0] = 832
        ids[0, 10], ids[0, 11:] = 833, 0  # BOS, 9 tokens, EOS, "!" padding (SD 2.x)
        ids[1, 76] = 833
        ids[2, 3], ids[2, 4:] = 833, 0
        put("text.input_ids", ids, "input: token ids (BOS 832, EOS 833, pad 0)")
        put("text.last_hidden_state", text(ids), "ClipTextReference(text_encoder/config.json)(input_ids)")
        context = text(ids)
        cases = {"a": ((2, 4, 8, 8), [999.0, 1.5]), "b": ((1, 4, 8, 12), [500.0]),
                 "c": ((3, 4, 12, 8), [981.0, 250.25, 0.0])}
        for case, (shape, timesteps) in cases.items():
            sample = torch.randn(shape, generator=g)
            enc = context[: shape[0]] if case != "c" else torch.randn(3, 77, 32, generator=g)
            t = torch.tensor(timesteps, dtype=torch.float32)
            put(f"unet.{case}.sample", sample, "input: torch.randn")
            put(f"unet.{case}.timestep", t, "input: per-row float32 timesteps")
            put(f"unet.{case}.encoder_hidden_states", enc, "input: text rows or torch.randn")
            put(f"unet.{case}.out", unet(sample, t, encoder_hidden_states=enc).sample,
                f"diffusers {version} UNet2DConditionModel(sample, timestep, encoder_hidden_states).sample")
        for case, shape in (("decode", (2, 4, 4, 4)), ("decode2", (1, 4, 4, 6))):
            z = torch.randn(shape, generator=g)
            put(f"vae.{case}.z", z, "input: torch.randn, fed as is (already divided by scaling_factor)")
            put(f"vae.{case}.out", vae.decode(z).sample, f"diffusers {version} AutoencoderKL.decode(z).sample")
        x = torch.rand((2, 3, 16, 16), generator=g) * 2 - 1
        put("vae.encode.x", x, "input: U[-1, 1)")
        put("vae.encode.mean", vae.encode(x).latent_dist.mean,
            f"diffusers {version} AutoencoderKL.encode(x).latent_dist.mean (not scaled)")
    np.savez_compressed(os.path.join(out, "golden.npz"), **arrays)
    save_config(os.path.join(out, "golden.json"), {
        "family": "sd2-tiny", "generator": {"diffusers_version": version, "torch_version": torch.__version__,
                                            "seed": SEED, "tool": "src/tools/reference/make_sd_reference.py"},
        "contract": {"pad_token_id": 0, "text_max_length": 77, "latent_channels": 4, "vae_scale_factor": 4,
                     "scaling_factor": 0.18215, "size_multiple": 16, "default_width": 32,
                     "prediction_type": "v_prediction", "timestep_spacing": "leading"},
        "arrays": what})
    print_sizes(out)
    return 0


def print_sizes(out: str) -> None:
    """Every file written below out, with its size: the fixture's cost in the repository."""
    sizes = {os.path.relpath(os.path.join(d, f), out): os.path.getsize(os.path.join(d, f))
             for d, _, fs in os.walk(out) for f in fs}
    for name, size in sorted(sizes.items()):
        print(f"{name:60s} {size:>10,d}")
    print(f"total {sum(sizes.values()):,d} bytes")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
