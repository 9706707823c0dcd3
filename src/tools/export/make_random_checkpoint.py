#!/usr/bin/env python3
"""A full-size Stable Diffusion checkpoint in diffusers layout with random weights, for benchmarks.

Usage:
    /usr/bin/python3 src/tools/export/make_random_checkpoint.py FAMILY OUT_DIR [--seed N]

FAMILY is sd15 (runwayml/stable-diffusion-v1-5), sd21-768-v (stabilityai/stable-diffusion-2-1),
sd-turbo (stabilityai/sd-turbo) or sdxl (stabilityai/stable-diffusion-xl-base-1.0's architecture).
Every config.json, scheduler_config.json and model_index.json is byte for byte the hub file of that
repository (hub_configs.py and hub_configs_sdxl.py name their sources); the weights are the
exporter's own modules (unet.py, vae.py, clip_text.py) with PyTorch's default initialization,
float32, written as safetensors in transformers' / diffusers' parameter names. The images such
weights give are noise: the point is the real architecture, sizes and file sizes.

The tokenizers are the small BPE vocabulary of src/test/resources/sd-reference/sd15-tiny with its
BOS and EOS moved to CLIP's ids 49406 and 49407 (the largest ids, where SDXL's pooling finds the EOS;
all ids are below the 49 408 rows of the text embeddings) and the family's special_tokens_map.json and
tokenizer_config.json (pad token "<|endoftext|>" for SD 1.5 and SDXL's first tokenizer, "!" for SD
2.x, SD-Turbo and SDXL's second, which is id 0 of that vocabulary; model_max_length 77).

Memory: one component is built at a time and its tensors are streamed to disk one by one, so the
peak is about one copy of the largest component (the U-Net: 3.4 GB for SD 1.5, 10.3 GB for SDXL).
"""

import argparse
import json
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from clip_text import CLIPTextModel, check_text_config  # noqa: E402
from hub_configs import FAMILIES  # noqa: E402
from hub_configs_sdxl import SDXL  # noqa: E402
from pipeline_files import read_json  # noqa: E402
from safetensors_io import write_safetensors  # noqa: E402
from unet import UNet2DConditionModel, UNetConfig  # noqa: E402
from vae import AutoencoderKL, VaeConfig  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TINY_TOKENIZER = os.path.join(REPO, "src", "test", "resources", "sd-reference", "sd15-tiny", "checkpoint",
                              "tokenizer")
# the safetensors package's and diffusers' save_pretrained metadata
METADATA = {"format": "pt"}
FAMILIES = dict(FAMILIES, sdxl=SDXL)
# CLIP's ids of its special tokens, the last two of its vocabulary
CLIP_SPECIAL_IDS = {"<|startoftext|>": 49406, "<|endoftext|>": 49407}


def log(line: str) -> None:
    print(line, flush=True)


def write_weights(module: torch.nn.Module, path: str) -> int:
    state = module.state_dict()
    write_safetensors(path, state, METADATA)
    return sum(t.numel() for t in state.values())


def make(family: str, out: str, seed: int) -> None:
    files = FAMILIES[family]
    if os.path.exists(out) and os.listdir(out):
        raise SystemExit(f"{out} exists and is not empty")
    for rel, text in files.items():
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    for tokenizer in sorted({rel.split("/")[0] for rel in files if rel.startswith("tokenizer")}):
        write_tokenizer(os.path.join(out, tokenizer))

    components = [
        ("text_encoder", "model.safetensors", lambda c, p: CLIPTextModel(c)),
        ("vae", "diffusion_pytorch_model.safetensors", lambda c, p: AutoencoderKL(VaeConfig(c, p))),
        ("unet", "diffusion_pytorch_model.safetensors", lambda c, p: UNet2DConditionModel(UNetConfig(c, p))),
        # last, so that the other components keep their seeds of the families without it
        ("text_encoder_2", "model.safetensors", lambda c, p: CLIPTextModel(c, projection=True)),
    ]
    for i, (component, file_name, build) in enumerate(components):
        start = time.time()
        config_path = os.path.join(out, component, "config.json")
        if not os.path.isfile(config_path):
            continue
        config = read_json(config_path)
        if component.startswith("text_encoder"):
            check_text_config(config, config_path, config["architectures"][0])
        torch.manual_seed(seed + i)
        with torch.no_grad():
            module = build(config, config_path)
        built = time.time()
        count = write_weights(module, os.path.join(out, component, file_name))
        del module
        size = os.path.getsize(os.path.join(out, component, file_name))
        log(f"{component}: {count:,d} parameters, {size:,d} bytes, built in {built - start:.1f} s, "
            f"written in {time.time() - built:.1f} s")


def write_tokenizer(folder: str) -> None:
    with open(os.path.join(TINY_TOKENIZER, "vocab.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    vocab.update(CLIP_SPECIAL_IDS)
    with open(os.path.join(folder, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(TINY_TOKENIZER, "merges.txt"), encoding="utf-8") as src, \
            open(os.path.join(folder, "merges.txt"), "w", encoding="utf-8") as dst:
        dst.write(src.read())


def main(argv) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("family", choices=sorted(FAMILIES))
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    start = time.time()
    make(args.family, os.path.abspath(args.out), args.seed)
    log(f"wrote {args.family} to {args.out} in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
