"""The HF-tokenizers `tokenizer.json` that transformers builds from a CLIP tokenizer folder
(vocab.json + merges.txt + special_tokens_map.json / tokenizer_config.json), i.e. what
`CLIPTokenizerFast.from_pretrained(folder)` converts with its CLIPConverter and saves."""

import json
import os
from typing import Optional, Tuple

from checkpoint_weights import CheckpointError

# CLIPTokenizer reads only this many merges: merges.txt lines [1, 49152 - 256 - 2 + 1)
MAX_MERGES = 49152 - 256 - 2
DEFAULT_SPECIAL = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
                   "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"}
# transformers' order of special-token attributes, the order in which they become added tokens
SPECIAL_ORDER = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
CLIP_SPLIT = r"""'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def _read_json(path: str) -> dict:
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def special_tokens(tokenizer_dir: str) -> dict:
    """name -> (content, lstrip, rstrip, single_word, normalized). special_tokens_map.json wins over
    tokenizer_config.json, as in transformers' from_pretrained. A token given as a plain string is
    added by tokenizers as special, hence not normalized."""
    config = _read_json(os.path.join(tokenizer_dir, "tokenizer_config.json"))
    mapping = _read_json(os.path.join(tokenizer_dir, "special_tokens_map.json"))
    result = {}
    for name in SPECIAL_ORDER:
        value = mapping.get(name, config.get(name, DEFAULT_SPECIAL.get(name)))
        if value is None:
            continue
        if isinstance(value, str):
            result[name] = (value, False, False, False, False)
        else:
            result[name] = (value["content"], value.get("lstrip", False), value.get("rstrip", False),
                            value.get("single_word", False), value.get("normalized", False))
    return result


def model_max_length(tokenizer_dir: str) -> Optional[int]:
    value = _read_json(os.path.join(tokenizer_dir, "tokenizer_config.json")).get("model_max_length")
    return int(value) if isinstance(value, (int, float)) and value < 1e9 else None


def build_tokenizer_json(tokenizer_dir: str) -> Tuple[dict, dict]:
    """(tokenizer.json as a dict, {special token name: id})."""
    vocab = _read_json(os.path.join(tokenizer_dir, "vocab.json"))
    merges_path = os.path.join(tokenizer_dir, "merges.txt")
    if not vocab or not os.path.isfile(merges_path):
        raise CheckpointError(f"{tokenizer_dir}: needs tokenizer.json, or vocab.json and merges.txt")
    with open(merges_path, encoding="utf-8") as f:
        lines = f.read().strip().split("\n")[1:MAX_MERGES + 1]
    # transformers keys its merge ranks by pair: a repeated pair keeps its first position
    merges = list(dict.fromkeys(" ".join(line.split()) for line in lines))
    specials = special_tokens(tokenizer_dir)
    ids = {}
    for name, (content, *_rest) in specials.items():
        if content not in vocab:
            raise CheckpointError(f"{tokenizer_dir}: {name} {content!r} is not in vocab.json")
        ids[name] = vocab[content]
    added = {}
    for content, lstrip, rstrip, single_word, normalized in specials.values():
        added.setdefault(content, {"id": vocab[content], "content": content, "single_word": single_word,
                                   "lstrip": lstrip, "rstrip": rstrip, "normalized": normalized,
                                   "special": True})
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": sorted(added.values(), key=lambda t: t["id"]),
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "NFC"},
            {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
            {"type": "Lowercase"}]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": CLIP_SPLIT}, "behavior": "Removed", "invert": True},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}]},
        "post_processor": {"type": "RobertaProcessing",
                           "sep": [specials["eos_token"][0], ids["eos_token"]],
                           "cls": [specials["bos_token"][0], ids["bos_token"]],
                           "trim_offsets": False, "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": specials["unk_token"][0],
                  "continuing_subword_prefix": "", "end_of_word_suffix": "</w>", "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False,
                  # tokenizers writes the vocabulary in id order
                  "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
                  "merges": merges},
    }
    return tokenizer, ids


def tokenizer_json_text(tokenizer: dict) -> str:
    """The bytes tokenizers' `save(pretty=True)` writes."""
    return json.dumps(tokenizer, indent=2, ensure_ascii=False) + "\n"
