"""The HuggingFace `tokenizers` file (format 1.0) of a WordLevel tokenizer as Stipple pipelines use it:
Lowercase normalizer, Whitespace pre-tokenizer, and a [BOS] ... [EOS] template whose special tokens
the server relies on (docs/pipeline-format.md). Shared by the trained model's export and the test
fixture script; DJL's HuggingFaceTokenizer loads what it writes."""
from typing import Dict, List

SPECIAL_TOKENS = ["[PAD]", "[BOS]", "[EOS]", "[UNK]"]


def tokenizer_json(vocab: Dict[str, int], special_tokens: List[str] = SPECIAL_TOKENS) -> dict:
    added = [{"id": vocab[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in special_tokens]

    def special(token: str, type_id: int) -> dict:
        return {"SpecialToken": {"id": token, "type_id": type_id}}

    def sequence(name: str, type_id: int) -> dict:
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special("[BOS]", 0), sequence("A", 0), special("[EOS]", 0)],
            "pair": [special("[BOS]", 0), sequence("A", 0), special("[EOS]", 0),
                     sequence("B", 1), special("[EOS]", 1)],
            "special_tokens": {
                "[BOS]": {"id": "[BOS]", "ids": [vocab["[BOS]"]], "tokens": ["[BOS]"]},
                "[EOS]": {"id": "[EOS]", "ids": [vocab["[EOS]"]], "tokens": ["[EOS]"]},
            },
        },
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }
