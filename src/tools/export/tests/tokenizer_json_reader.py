"""An independent, minimal reading of a CLIP-style tokenizer.json (what DJL / HF tokenizers do with
the file the exporter writes): added special tokens, NFC + whitespace + lowercase normalizer, CLIP's
split pattern emulated with unicodedata (Python's re has no \\p{L}), byte-level alphabet, BPE with
the "</w>" end-of-word suffix, BOS/EOS template, truncation keeping both, padding."""

import unicodedata
from typing import List


def _byte_alphabet() -> dict:
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


_BYTES = _byte_alphabet()


def _kind(ch: str) -> str:
    if ch.isspace():
        return "space"
    cat = unicodedata.category(ch)
    return "letter" if cat[0] == "L" else "number" if cat[0] == "N" else "other"


def _split(text: str) -> List[str]:
    pieces, i = [], 0
    while i < len(text):
        for c in ("'s", "'t", "'re", "'ve", "'m", "'ll", "'d"):
            if text.startswith(c, i):
                pieces.append(c)
                i += len(c)
                break
        else:
            kind = _kind(text[i])
            if kind == "space":
                i += 1
                continue
            j = i + 1
            if kind != "number":
                while j < len(text) and _kind(text[j]) == kind:
                    j += 1
            pieces.append(text[i:j])
            i = j
    return pieces


def _bpe(word: str, ranks: dict) -> List[str]:
    symbols = list(word[:-1]) + [word[-1] + "</w>"]
    while len(symbols) > 1:
        pairs = [(ranks.get((a, b), float("inf")), k) for k, (a, b) in enumerate(zip(symbols, symbols[1:]))]
        rank, k = min(pairs)
        if rank == float("inf"):
            break
        first, second = symbols[k], symbols[k + 1]
        merged, j = [], 0
        while j < len(symbols):
            if j + 1 < len(symbols) and symbols[j] == first and symbols[j + 1] == second:
                merged.append(first + second)
                j += 2
            else:
                merged.append(symbols[j])
                j += 1
        symbols = merged
    return symbols


def encode(tokenizer: dict, text: str, max_length: int, pad_id: int) -> List[int]:
    model = tokenizer["model"]
    vocab = model["vocab"]
    ranks = {tuple(m.split(" ")) if isinstance(m, str) else tuple(m): r for r, m in enumerate(model["merges"])}
    unk = vocab[model["unk_token"]]
    specials = {t["content"]: t["id"] for t in tokenizer["added_tokens"]}
    ids: List[int] = []
    for chunk in _split_specials(text, specials):
        if chunk in specials:
            ids.append(specials[chunk])
            continue
        normalized = " ".join(unicodedata.normalize("NFC", chunk).split()).lower()
        for piece in _split(normalized):
            word = "".join(_BYTES[b] for b in piece.encode("utf-8"))
            ids.extend(vocab.get(s, unk) for s in _bpe(word, ranks))
    post = tokenizer["post_processor"]
    ids = [post["cls"][1]] + ids[:max_length - 2] + [post["sep"][1]]
    return ids + [pad_id] * (max_length - len(ids))


def _split_specials(text: str, specials: dict) -> List[str]:
    out, i, start = [], 0, 0
    while i < len(text):
        match = next((s for s in sorted(specials, key=len, reverse=True) if text.startswith(s, i)), None)
        if match:
            if start < i:
                out.append(text[start:i])
            out.append(match)
            i += len(match)
            start = i
        else:
            i += 1
    if start < len(text):
        out.append(text[start:])
    return out
