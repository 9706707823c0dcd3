#!/usr/bin/env python3
"""The "captioned shapes" dataset: scenes, their captions, and antialiased 64x64 renderings.

Usage:
    /usr/bin/python3 src/training/shapes.py --out DIR --count N --seed S
    /usr/bin/python3 src/training/shapes.py --selftest

DIR receives 00000.png ... and captions.jsonl, one line per image:
    {"file": "00000.png", "caption": ..., "paraphrase": ..., "scene": {...}}
The scene holds everything the image was drawn from (exact geometry in pixels and the jittered
colors), so render(scene_from_json(line["scene"])) reproduces the PNG bit for bit.

Image i depends only on (seed, i): a larger --count extends a dataset without changing it.
Needs numpy only (the PNG codec below uses zlib), so it runs wherever training runs.
src/training/README.md describes the grammar and the sampling weights;
src/test/java/io/stipple/eval/CaptionGrammar.java is the Java twin of parse_caption.
"""

import argparse
import json
import os
import re
import struct
import sys
import zlib
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

CANVAS = 64

PALETTE: Dict[str, Tuple[int, int, int]] = {
    "red": (215, 30, 30),
    "orange": (245, 130, 20),
    "yellow": (250, 230, 50),
    "green": (30, 160, 60),
    "blue": (30, 70, 210),
    "purple": (130, 50, 170),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "gray": (128, 128, 128),
}
COLOR_JITTER = 10

SHAPES = ("circle", "square", "triangle")

# bounding-box side over the canvas width; "medium" is the class that has no size word
SIZE_RANGES = {"small": (0.20, 0.28), "medium": (0.34, 0.46), "large": (0.55, 0.70)}

# bounding-box center over the canvas; None (no position word) places the shape anywhere
POSITION_ANCHORS = {
    "left": (0.28, 0.5),
    "right": (0.72, 0.5),
    "top": (0.5, 0.28),
    "bottom": (0.5, 0.72),
    "center": (0.5, 0.5),
}
POSITION_PHRASES = {
    "left": "on the left",
    "right": "on the right",
    "top": "at the top",
    "bottom": "at the bottom",
    "center": "in the center",
}
POSITION_JITTER = 0.05

TWO_OBJECT_PROBABILITY = 0.3
POSITION_WORD_PROBABILITY = 5 / 6

SUPERSAMPLING = 4

# Every word parse_caption accepts, canonical or not. Paraphrases draw from the same table, so
# whatever the dataset says the parsers understand.
SYNONYMS = {
    "color": {"grey": "gray", "violet": "purple"},
    "shape": {"disk": "circle", "disc": "circle"},
    "size": {"tiny": "small", "little": "small", "big": "large"},
    "position": {"middle": "center", "centre": "center"},
}
FILLER_WORDS = {"a", "an", "the", "on", "at", "in", "with", "side"}


@dataclass
class SceneObject:
    color: str
    rgb: Tuple[int, int, int]       # the palette color after jitter, as drawn
    shape: str
    size: str                       # "small", "medium" or "large"
    position: Optional[str]         # a POSITION_ANCHORS key; None when the caption names none
    center: Tuple[float, float]     # bounding-box center (x, y) in pixels of the canvas
    side: float                     # bounding-box side in pixels of the canvas


@dataclass
class Scene:
    background: str
    background_rgb: Tuple[int, int, int]
    objects: List[SceneObject] = field(default_factory=list)
    canvas: int = CANVAS


# ----------------------------------------------------------------------------------------------
# captions

def caption(scene: Scene) -> str:
    return _phrase(scene, lambda kind, canonical: canonical, terse=False)


def paraphrase(scene: Scene, rng: np.random.Generator) -> str:
    """A variant of caption(scene) with random synonyms and, half of the time, the terse form
    "red circle, blue background", so that a model trained on both is less brittle."""
    def pick(kind: str, canonical: str) -> str:
        words = [canonical] + [w for w, c in SYNONYMS[kind].items() if c == canonical]
        return words[rng.integers(len(words))]

    text = _phrase(scene, pick, terse=bool(rng.random() < 0.5))
    # the canonical captions keep the grammar's fixed "a"; paraphrases are proper English
    return re.sub(r"\ba (?=[aeiou])", "an ", text)


def _phrase(scene: Scene, word: Callable[[str, str], str], terse: bool) -> str:
    """The caption with word(kind, canonical word) in place of each color, shape, size and
    position word."""
    parts = []
    for obj in scene.objects:
        words = [] if obj.size == "medium" else [word("size", obj.size)]
        words += [word("color", obj.color), word("shape", obj.shape)]
        if obj.position is not None:
            words.append(POSITION_PHRASES[obj.position]
                         .replace(obj.position, word("position", obj.position)))
        parts.append(("" if terse else "a ") + " ".join(words))
    background = word("color", scene.background)
    if terse:
        return f"{' and '.join(parts)}, {background} background"
    return f"{' and '.join(parts)} on a {background} background"


def parse_caption(text: str) -> dict:
    """What a caption names: {"background": color, "objects": [{"color", "shape", "size",
    "position"}]}, with size "medium" when no size word is given and position None when no
    position word is given. Raises ValueError for anything outside the grammar."""
    words = re.findall(r"[a-z]+", text.lower())
    if words.count("background") != 1:
        raise ValueError(f"expected one '<color> background' in {text!r}")
    at = words.index("background")
    background = _canonical("color", words[at - 1]) if at > 0 else None
    if background is None:
        raise ValueError(f"no color before 'background' in {text!r}")
    rest = words[:at - 1] + words[at + 1:]
    chunks: List[List[str]] = [[]]
    for word in rest:
        if word == "and":
            chunks.append([])
        else:
            chunks[-1].append(word)
    if len(chunks) > 2:
        raise ValueError(f"at most two objects, got {len(chunks)} in {text!r}")
    objects = [_parse_object(chunk, text) for chunk in chunks]
    if len(objects) == 2 and any(o["position"] for o in objects):
        raise ValueError(f"two objects are placed by their order, not by position words: {text!r}")
    return {"background": background, "objects": objects}


def _canonical(kind: str, word: str) -> Optional[str]:
    vocabulary = {"color": PALETTE, "shape": SHAPES, "size": ("small", "large"),
                  "position": POSITION_ANCHORS}[kind]
    word = SYNONYMS[kind].get(word, word)
    return word if word in vocabulary else None


def _parse_object(words: List[str], text: str) -> dict:
    found: Dict[str, List[str]] = {"color": [], "shape": [], "size": [], "position": []}
    for word in words:
        kinds = [k for k in found if _canonical(k, word)]
        if kinds:
            found[kinds[0]].append(_canonical(kinds[0], word))
        elif word not in FILLER_WORDS:
            raise ValueError(f"unknown word {word!r} in {text!r}")
    for kind, values in found.items():
        required = kind in ("color", "shape")
        if len(values) > 1 or (required and not values):
            raise ValueError(f"expected {'one' if required else 'at most one'} {kind} "
                             f"per object, got {values} in {text!r}")
    return {"color": found["color"][0], "shape": found["shape"][0],
            "size": (found["size"] or ["medium"])[0],
            "position": (found["position"] or [None])[0]}


def describe(scene: Scene) -> dict:
    """The attributes of a scene in parse_caption's terms."""
    return {"background": scene.background,
            "objects": [{"color": o.color, "shape": o.shape, "size": o.size, "position": o.position}
                        for o in scene.objects]}


# ----------------------------------------------------------------------------------------------
# sampling

def sample_scene(rng: np.random.Generator) -> Scene:
    names = list(PALETTE)
    background = names[rng.integers(len(names))]
    object_colors = [c for c in names if c != background]

    def new_object(size: str, position: Optional[str], x_range: Tuple[float, float]) -> SceneObject:
        # The two objects of a two-object scene draw their colors independently, so they may
        # coincide: "a red circle and a red square" is a caption of the grammar like any other.
        color = object_colors[rng.integers(len(object_colors))]
        shape = SHAPES[rng.integers(len(SHAPES))]
        # two decimals for the side and three for the center keep the JSON short, and
        # clamping after rounding keeps the box exactly inside
        side = round(float(rng.uniform(*SIZE_RANGES[size])) * CANVAS, 2)
        low = np.array([x_range[0], 0]) + side / 2
        high = np.array([x_range[1], CANVAS]) - side / 2
        if position is None:
            center = rng.uniform(low, high)
        else:
            jitter = rng.uniform(-POSITION_JITTER, POSITION_JITTER, size=2)
            center = (np.array(POSITION_ANCHORS[position]) + jitter) * CANVAS
        center = np.clip(np.round(center, 3), low, high)
        return SceneObject(color, _jitter(color, rng), shape, size, position,
                           (float(center[0]), float(center[1])), side)

    if rng.random() < TWO_OBJECT_PROBABILITY:
        half = CANVAS / 2
        objects = [new_object("medium", None, (0, half)), new_object("medium", None, (half, CANVAS))]
    else:
        size = ("small", "medium", "large")[rng.integers(3)]
        position = None
        if rng.random() < POSITION_WORD_PROBABILITY:
            position = list(POSITION_ANCHORS)[rng.integers(len(POSITION_ANCHORS))]
        objects = [new_object(size, position, (0, CANVAS))]
    return Scene(background, _jitter(background, rng), objects)


def _jitter(color: str, rng: np.random.Generator) -> Tuple[int, int, int]:
    offsets = rng.integers(-COLOR_JITTER, COLOR_JITTER + 1, size=3)
    return tuple(int(v) for v in np.clip(np.array(PALETTE[color]) + offsets, 0, 255))


# ----------------------------------------------------------------------------------------------
# rendering

def render(scene: Scene, size: int = CANVAS) -> np.ndarray:
    """uint8 [size, size, 3]; each pixel mixes the colors by its coverage, measured on a 4x4
    grid of samples, so that edges are antialiased the same way everywhere."""
    scale = size / scene.canvas
    offsets = (np.arange(SUPERSAMPLING) + 0.5) / SUPERSAMPLING
    coords = (np.arange(size)[:, None] + offsets[None, :]).reshape(-1) / scale
    ys, xs = np.meshgrid(coords, coords, indexing="ij")
    image = np.broadcast_to(np.array(scene.background_rgb, np.float64), (size, size, 3)).copy()
    for obj in scene.objects:
        inside = _inside(obj, xs, ys).astype(np.float64)
        coverage = inside.reshape(size, SUPERSAMPLING, size, SUPERSAMPLING).mean(axis=(1, 3))
        image += coverage[..., None] * (np.array(obj.rgb, np.float64) - image)
    return np.floor(image + 0.5).astype(np.uint8)


def _inside(obj: SceneObject, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    cx, cy = obj.center
    half = obj.side / 2
    if obj.shape == "circle":
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= half * half
    if obj.shape == "square":
        return (np.abs(xs - cx) <= half) & (np.abs(ys - cy) <= half)
    # isosceles, apex up, base = height = side: the half-width grows by 1/2 per unit of depth
    depth = ys - (cy - half)
    return (depth >= 0) & (depth <= obj.side) & (np.abs(xs - cx) <= depth / 2)


# ----------------------------------------------------------------------------------------------
# files

def write_png(path: str, image: np.ndarray) -> None:
    height, width, _ = image.shape
    # the "Sub" filter turns flat runs into zeros, which deflate packs best
    rows = image.astype(np.int16).reshape(height, width * 3)
    sub = np.concatenate([rows[:, :3], rows[:, 3:] - rows[:, :-3]], axis=1) % 256
    raw = np.concatenate([np.ones((height, 1), np.int16), sub], axis=1).astype(np.uint8)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + chunk(b"IEND", b""))


def read_png(path: str) -> np.ndarray:
    """Reads 8-bit RGB PNGs without interlacing, such as write_png's or the server's."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color_type, _, _, interlace = header
    if (depth, color_type, interlace) != (8, 2, 0):
        raise ValueError(f"{path}: only 8-bit RGB without interlacing is supported")
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * 3)
    out = np.zeros((height, width * 3), np.int32)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        above = out[y - 1] if y else np.zeros_like(line)
        if kind in (0, 2):
            out[y] = (line + (above if kind == 2 else 0)) % 256
            continue
        if kind == 1:
            out[y] = line.reshape(width, 3).cumsum(axis=0).reshape(-1) % 256
            continue
        for x in range(width * 3):
            left = out[y, x - 3] if x >= 3 else 0
            upper_left = above[x - 3] if x >= 3 else 0
            if kind == 3:
                predictor = (left + above[x]) // 2
            else:
                predictor = _paeth(left, above[x], upper_left)
            out[y, x] = (line[x] + predictor) % 256
    return out.reshape(height, width, 3).astype(np.uint8)


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def scene_from_json(data: dict) -> Scene:
    return Scene(data["background"], tuple(data["background_rgb"]),
                 [SceneObject(o["color"], tuple(o["rgb"]), o["shape"], o["size"], o["position"],
                              tuple(o["center"]), o["side"]) for o in data["objects"]],
                 data["canvas"])


def write_dataset(out: str, count: int, seed: int) -> None:
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "captions.jsonl"), "w") as lines:
        for i in range(count):
            rng = np.random.default_rng([seed, i])
            scene = sample_scene(rng)
            name = f"{i:05d}.png"
            write_png(os.path.join(out, name), render(scene))
            lines.write(json.dumps({"file": name, "caption": caption(scene),
                                    "paraphrase": paraphrase(scene, rng),
                                    "scene": asdict(scene)}) + "\n")


# ----------------------------------------------------------------------------------------------
# self-test

def _selftest() -> None:
    import tempfile

    circle = Scene("blue", (30, 70, 210), [SceneObject("red", (215, 30, 30), "circle", "medium",
                                                       "center", (32.0, 32.0), 24.0)])
    image = render(circle)
    assert tuple(image[32, 32]) == (215, 30, 30) and tuple(image[0, 0]) == (30, 70, 210)
    assert tuple(image[32, 20]) == (215, 30, 30) and tuple(image[32, 19]) == (30, 70, 210)
    assert tuple(image[21, 21]) == (30, 70, 210), "a circle leaves its bounding-box corners empty"
    assert tuple(image[32, 43]) == (215, 30, 30) and tuple(image[32, 44]) == (30, 70, 210)

    triangle = Scene("white", (245, 245, 245), [SceneObject("black", (20, 20, 20), "triangle",
                                                            "large", None, (32.0, 32.0), 40.0)])
    image = render(triangle).astype(int)
    dark = (image.sum(axis=2) < 300)
    widths = dark.sum(axis=1)
    assert widths[13] < 4 and widths[50] >= 38, "apex up, base at the bottom"
    assert abs(dark.sum() - 40 * 40 / 2) < 20, "area of an isosceles triangle with base = height"
    # an edge pixel half covered mixes the two colors half and half
    square = Scene("black", (20, 20, 20), [SceneObject("white", (245, 245, 245), "square", "medium",
                                                       None, (32.0, 32.0), 21.0)])
    assert tuple(render(square)[32, 21]) == (133, 133, 133)

    rng = np.random.default_rng(1)
    forms = set()
    for i in range(3000):
        scene = sample_scene(rng)
        if i < 200:
            image = render(scene)
            for obj in scene.objects:
                x, y = obj.center
                assert tuple(image[int(y), int(x)]) == obj.rgb, "the box center is inside every shape"
            untouched = CANVAS ** 2 - sum((o.side + 2) ** 2 for o in scene.objects)
            assert (image == scene.background_rgb).all(axis=2).sum() >= untouched
        for obj in scene.objects:
            x, y = obj.center
            half = obj.side / 2
            assert half <= x <= CANVAS - half and half <= y <= CANVAS - half, obj
            low, high = SIZE_RANGES[obj.size]
            assert low * CANVAS - 1e-3 <= obj.side <= high * CANVAS + 1e-3, obj
            assert obj.color != scene.background
            assert all(abs(v - p) <= COLOR_JITTER for v, p in zip(obj.rgb, PALETTE[obj.color]))
        if len(scene.objects) == 2:
            left, right = scene.objects
            assert left.center[0] + left.side / 2 <= CANVAS / 2 <= right.center[0] - right.side / 2
        expected = describe(scene)
        assert parse_caption(caption(scene)) == expected, caption(scene)
        assert parse_caption(paraphrase(scene, rng)) == expected
        forms.add((len(scene.objects), scene.objects[0].size, scene.objects[0].position))
    assert len(forms) == 3 * 6 + 1, "every size x position form and the two-object form occur"

    for bad in ("a red circle", "a red on a blue background", "a red circle and a blue square and "
                "a green triangle on a white background", "a red circle on the left and a blue "
                "square on a white background", "a red hexagon on a blue background",
                "a small large red circle on a blue background"):
        try:
            parse_caption(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad!r}")

    with tempfile.TemporaryDirectory() as out:
        write_dataset(out, 5, 7)
        again = os.path.join(out, "again")
        write_dataset(again, 6, 7)
        with open(os.path.join(out, "captions.jsonl")) as f:
            lines = [json.loads(line) for line in f]
        for line in lines:
            path = os.path.join(out, line["file"])
            with open(path, "rb") as a, open(os.path.join(again, line["file"]), "rb") as b:
                assert a.read() == b.read(), "deterministic, independent of --count"
            assert np.array_equal(read_png(path), render(scene_from_json(line["scene"])))
            assert parse_caption(line["caption"]) == describe(scene_from_json(line["scene"]))
    print("selftest passed")


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.out:
        parser.error("--out is required")
    write_dataset(args.out, args.count, args.seed)


if __name__ == "__main__" and "--selftest" in sys.argv:
    _selftest()
elif __name__ == "__main__":
    main(sys.argv[1:])
