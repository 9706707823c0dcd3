"""Data for the default model: the captioned-shapes images (shapes.py), rendered fast, and the
word vocabulary and tokenization that the exported tokenizer.json reproduces.

Image i of a dataset with seed S is scene shapes.sample_scene(numpy.random.default_rng([S, i])),
exactly as shapes.write_dataset draws it; render_fast() gives the same pixels as shapes.render()
(bit for bit, checked by --selftest) several times faster, by sampling coverage only inside each
object's bounding box.
"""

import math
import os
import re
import sys
from typing import Dict, List, Tuple

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

# ----------------------------------------------------------------------------------------------
# vocabulary

from word_level_tokenizer import SPECIAL_TOKENS  # noqa: E402  (re-exported for callers)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


def grammar_words() -> List[str]:
    """Every word of the captions, the paraphrases and the forms parse_caption accepts, in a fixed
    order; punctuation that the Whitespace pre-tokenizer splits off (",") is a token too."""
    words: List[str] = []

    def add(word: str) -> None:
        if word not in words:
            words.append(word)

    for w in ("a", "an", "the", "and", "on", "at", "in", "with", "side", "background", ",", "."):
        add(w)
    for w in shapes.PALETTE:
        add(w)
    for w in shapes.SHAPES:
        add(w)
    for w in ("small", "large"):
        add(w)
    for w in shapes.POSITION_ANCHORS:
        add(w)
    for kind in ("color", "shape", "size", "position"):
        for w in shapes.SYNONYMS[kind]:
            add(w)
    return words


def build_vocab() -> Dict[str, int]:
    vocab: Dict[str, int] = {}
    for token in SPECIAL_TOKENS + grammar_words():
        vocab[token] = len(vocab)
    assert vocab["[PAD]"] == PAD_ID and vocab["[BOS]"] == BOS_ID and vocab["[EOS]"] == EOS_ID
    return vocab


# HuggingFace's Whitespace pre-tokenizer splits on the regex \w+|[^\w\s]+
_PIECES = re.compile(r"\w+|[^\w\s]+")


def encode(vocab: Dict[str, int], text: str, max_length: int) -> List[int]:
    """What the server feeds the text encoder for `text`: Lowercase, Whitespace, WordLevel (unknown
    words -> [UNK]), [BOS] ... [EOS] (the truncation keeps both, as HF's does), then [PAD]s up to
    max_length."""
    ids = [vocab.get(p, UNK_ID) for p in _PIECES.findall(text.lower())]
    ids = [BOS_ID] + ids[:max_length - 2] + [EOS_ID]
    return ids + [PAD_ID] * (max_length - len(ids))


def caption_variant(caption: str, paraphrase: str, rng: np.random.Generator) -> str:
    """The text a training example is shown with: its canonical caption or the dataset's
    paraphrase, half and half, and sometimes one of the other forms parse_caption accepts
    ("... on the left side", "a blue background with a red circle")."""
    text = caption if rng.random() < 0.5 else paraphrase
    if rng.random() < 0.1:
        text = re.sub(r"\b(left|right)\b", r"\1 side", text)
    if rng.random() < 0.1:
        # "<objects> on a <bg> background" / "<objects>, <bg> background" -> "a <bg> background with <objects>"
        m = re.fullmatch(r"(.*?)(?: on a |, )(\w+) background", text)
        if m:
            objects = m.group(1)
            if not re.match(r"an? ", objects):
                objects = "a " + objects.replace(" and ", " and a ")
            text = f"a {m.group(2)} background with {objects}"
    return text


# ----------------------------------------------------------------------------------------------
# images

def render_fast(scene: shapes.Scene, size: int = shapes.CANVAS) -> np.ndarray:
    """shapes.render(scene, size), bit for bit: coverage is the mean of 0/1 samples over a 4x4
    grid (exact in float64 in any order), and it is zero outside an object's bounding box."""
    s = shapes.SUPERSAMPLING
    scale = size / scene.canvas
    offsets = (np.arange(s) + 0.5) / s
    coords = (np.arange(size)[:, None] + offsets[None, :]).reshape(-1) / scale
    image = np.broadcast_to(np.array(scene.background_rgb, np.float64), (size, size, 3)).copy()
    for obj in scene.objects:
        cx, cy = obj.center
        half = obj.side / 2
        x0 = max(int(math.floor((cx - half) * scale)) - 1, 0)
        x1 = min(int(math.ceil((cx + half) * scale)) + 1, size)
        y0 = max(int(math.floor((cy - half) * scale)) - 1, 0)
        y1 = min(int(math.ceil((cy + half) * scale)) + 1, size)
        ys, xs = np.meshgrid(coords[y0 * s:y1 * s], coords[x0 * s:x1 * s], indexing="ij")
        inside = shapes._inside(obj, xs, ys).astype(np.float64)
        coverage = inside.reshape(y1 - y0, s, x1 - x0, s).mean(axis=(1, 3))
        window = image[y0:y1, x0:x1]
        window += coverage[..., None] * (np.array(obj.rgb, np.float64) - window)
    return np.floor(image + 0.5).astype(np.uint8)


def make_examples(seed: int, start: int, stop: int) -> Tuple[np.ndarray, List[dict]]:
    """Images [n, 64, 64, 3] uint8 and, per image, {"caption", "paraphrase", "scene"} for the
    indices start..stop-1 of the dataset with this seed, exactly as shapes.write_dataset draws them."""
    images = np.zeros((stop - start, shapes.CANVAS, shapes.CANVAS, 3), np.uint8)
    meta = []
    for k, i in enumerate(range(start, stop)):
        rng = np.random.default_rng([seed, i])
        scene = shapes.sample_scene(rng)
        images[k] = render_fast(scene)
        meta.append({"caption": shapes.caption(scene), "paraphrase": shapes.paraphrase(scene, rng),
                     "scene": scene})
    return images, meta


def _make_examples_star(args):
    seed, start, stop = args
    images, meta = make_examples(seed, start, stop)
    # scenes are plain dataclasses; keep what training needs
    return images, [(m["caption"], m["paraphrase"], m["scene"]) for m in meta]


def _default_signals() -> None:
    """Pool workers are forked from a caller that may handle SIGINT/SIGTERM itself (train.py
    checkpoints and stops); the pool's own SIGTERM at shutdown must simply end them."""
    import signal
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def generate(seed: int, count: int, processes: int = 2, chunk: int = 2000):
    """make_examples(seed, 0, count) on `processes` worker processes (the result does not depend
    on their number)."""
    ranges = [(seed, a, min(a + chunk, count)) for a in range(0, count, chunk)]
    if processes <= 1:
        parts = [_make_examples_star(r) for r in ranges]
    else:
        import multiprocessing
        with multiprocessing.get_context("fork").Pool(processes, initializer=_default_signals) as pool:
            parts = pool.map(_make_examples_star, ranges)
    images = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 64, 64, 3), np.uint8)
    meta = [m for p in parts for m in p[1]]
    return images, meta


def _selftest() -> None:
    import time
    vocab = build_vocab()
    assert encode(vocab, "a red circle on a blue background", 16)[:9] == [
        BOS_ID, vocab["a"], vocab["red"], vocab["circle"], vocab["on"], vocab["a"], vocab["blue"],
        vocab["background"], EOS_ID]
    assert encode(vocab, "", 16) == [BOS_ID, EOS_ID] + [PAD_ID] * 14
    assert encode(vocab, "Red circle, blue background", 8) == [
        BOS_ID, vocab["red"], vocab["circle"], vocab[","], vocab["blue"], vocab["background"],
        EOS_ID, PAD_ID]
    assert encode(vocab, "a " * 30, 16)[-1] == EOS_ID
    t = time.time()
    rng = np.random.default_rng(5)
    for i in range(1500):
        r = np.random.default_rng([3, i])
        scene = shapes.sample_scene(r)
        assert np.array_equal(render_fast(scene), shapes.render(scene)), i
        para = shapes.paraphrase(scene, r)
        for _ in range(3):
            text = caption_variant(shapes.caption(scene), para, rng)
            assert shapes.parse_caption(text) == shapes.describe(scene), text
            assert UNK_ID not in encode(vocab, text, 16), text
            assert len([p for p in _PIECES.findall(text)]) <= 14, text
    for size in (32, 96):
        scene = shapes.sample_scene(np.random.default_rng([4, size]))
        assert np.array_equal(render_fast(scene, size), shapes.render(scene, size))
    print("data selftest passed (%.1fs)" % (time.time() - t))


if __name__ == "__main__" and "--selftest" in sys.argv:
    _selftest()
