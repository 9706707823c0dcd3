#!/usr/bin/env python3
"""What diffusers' StableDiffusionInpaintPipeline makes of an image and a mask before the U-Net sees them, for
src/test/java/io/stipple/pipeline/DiffusersInpaintInputsTest.java.

Usage:
    git --git-dir=DIFFUSERS_GIT archive v0.25.1 src | tar -x -C /tmp/diffusers-0.25.1
    /usr/bin/python3 src/tools/reference/make_inpaint_inputs_reference.py /tmp/diffusers-0.25.1/src \\
        [OUT_DIR (default src/test/resources/reference/inpaint-inputs)]

Needs torch (1.13), numpy and Pillow (Debian's python3-pil: diffusers reads masks through PIL, and its
grayscale conversion is part of what is checked). Imports diffusers v0.25.1 as make_sd_reference.py does, with
the real Pillow instead of the stub. Everything below is diffusers' own code, called as the inpaint pipeline
calls it for a 48x32 request:
- `init_image = pipeline.image_processor.preprocess(image, height, width)`: `VaeImageProcessor(vae_scale_factor=8)`;
- `mask_condition = pipeline.mask_processor.preprocess(mask, height, width)`: `VaeImageProcessor(vae_scale_factor=8,
  do_normalize=False, do_binarize=True, do_convert_grayscale=True)` (PIL's "L", then < 0.5 → 0, else 1);
- `masked_image`: the expression `__call__` assigns to it (`init_image * (mask_condition < 0.5)`), taken from the
  pipeline's source with `ast` (the pipeline module imports transformers) and evaluated;
- `mask`: `StableDiffusionInpaintPipeline.prepare_mask_latents`, compiled from its source the same way and called
  with `_encode_vae_image` as the identity, so that it returns the mask it resized to the latent size
  (`interpolate`, nearest) and the masked image it would encode.

The mask is made to tell implementations apart: a rectangle whose edges cross latent cells (nearest-neighbour
takes each cell's top-left pixel), single pixels at cells' top-left corners and centres, greys around the
threshold, and colours whose luminance is within 0.01 of 127.5, where PIL's fixed-point luma (R·19595 +
G·38470 + B·7471 + 2¹⁵) >> 16 and the floating-point 0.299 R + 0.587 G + 0.114 B disagree.

Writes image.png and mask.png (RGB; the inputs) and inpaint.json (the outputs as nested lists, float32).
"""

import ast
import json
import os
import sys

import numpy as np
# diffusers' image processor uses these; imported before the stubs of make_sd_reference so the real ones serve
import PIL.Image  # noqa: F401
import PIL.ImageFilter  # noqa: F401
import PIL.ImageOps  # noqa: F401
import PIL.PngImagePlugin  # noqa: F401  (writes the inputs)
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_sd_reference as sd  # noqa: E402

WIDTH, HEIGHT, FACTOR = 48, 32, 8
SEED = 17


def pipeline_code(src: str):
    """`masked_image = ...` of StableDiffusionInpaintPipeline.__call__ and its prepare_mask_latents, from source."""
    path = os.path.join(src, "diffusers", "pipelines", "stable_diffusion", "pipeline_stable_diffusion_inpaint.py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    pipeline = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "StableDiffusionInpaintPipeline")
    methods = {n.name: n for n in pipeline.body if isinstance(n, ast.FunctionDef)}
    assignment = next(n for n in ast.walk(methods["__call__"])
                      if isinstance(n, ast.Assign) and len(n.targets) == 1
                      and isinstance(n.targets[0], ast.Name) and n.targets[0].id == "masked_image"
                      and ast.unparse(n.value) == "init_image * (mask_condition < 0.5)")
    masked = compile(ast.Expression(body=assignment.value), path, "eval")
    namespace = {"torch": torch}
    exec(compile(ast.Module(body=[methods["prepare_mask_latents"]], type_ignores=[]), path, "exec"), namespace)
    return masked, namespace["prepare_mask_latents"]


class PixelsPipeline:
    """What prepare_mask_latents reads of `self`; the VAE is left out so that the masked image comes back as is."""
    vae_scale_factor = FACTOR

    @staticmethod
    def _encode_vae_image(image, generator):
        return image


def make_mask() -> np.ndarray:
    mask = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    mask[5:27, 10:30] = 255  # edges inside cells: x 10 and 29, y 5 and 26
    mask[0, 40] = mask[16, 0] = 255  # top-left pixels of otherwise kept cells
    mask[12, 44] = mask[28, 4] = 255  # centre pixels of otherwise kept cells
    mask[8:16, 32:40] = 255
    mask[8, 32] = 0  # a repainted cell whose top-left pixel keeps
    # the threshold, in the kept bottom-right cell's bottom rows (no cell's top-left pixel)
    greys = [126, 127, 128, 129, 130]
    colours = [(0, 204, 68), (2, 209, 37), (12, 174, 191), (255, 0, 255), (0, 255, 0), (128, 128, 127),
               (127, 128, 128), (200, 100, 50)]
    row = [(g, g, g) for g in greys] + colours
    for i, rgb in enumerate(row):
        mask[30 + i // 8, 40 + i % 8] = rgb
    return mask


def rounded(array: torch.Tensor):
    """float32 values as nested lists, printed with the 9 significant digits that keep them exact."""
    return json.loads(json.dumps(array.tolist()), parse_float=lambda text: float("%.9g" % float(text)))


def main(argv) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    src = argv[0]
    out = os.path.abspath(argv[1]) if len(argv) > 1 else \
        os.path.join(sd.REPO, "src", "test", "resources", "reference", "inpaint-inputs")
    _, _, version = sd.import_diffusers(src)
    from diffusers.image_processor import VaeImageProcessor
    masked_expression, prepare_mask_latents = pipeline_code(src)

    rng = np.random.default_rng(SEED)
    image = PIL.Image.fromarray(rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8), "RGB")
    mask = PIL.Image.fromarray(make_mask(), "RGB")
    image_processor = VaeImageProcessor(vae_scale_factor=FACTOR)
    mask_processor = VaeImageProcessor(vae_scale_factor=FACTOR, do_normalize=False, do_binarize=True,
                                       do_convert_grayscale=True)
    init_image = image_processor.preprocess(image, height=HEIGHT, width=WIDTH)
    mask_condition = mask_processor.preprocess(mask, height=HEIGHT, width=WIDTH)
    masked_image = eval(masked_expression, {}, {"init_image": init_image, "mask_condition": mask_condition})
    latent_mask, encoded = prepare_mask_latents(PixelsPipeline(), mask_condition, masked_image, 1, HEIGHT, WIDTH,
                                                torch.float32, "cpu", None, False)
    if not torch.equal(encoded, masked_image):
        raise RuntimeError("prepare_mask_latents changed the masked image")

    os.makedirs(out, exist_ok=True)
    image.save(os.path.join(out, "image.png"))
    mask.save(os.path.join(out, "mask.png"))
    doc = {
        "generated_by": "src/tools/reference/make_inpaint_inputs_reference.py (diffusers %s, torch %s, Pillow %s)"
                        % (version, torch.__version__, PIL.__version__),
        "width": WIDTH, "height": HEIGHT, "vae_scale_factor": FACTOR,
        "arrays": {
            "init_image": "[1, 3, H, W]: image_processor.preprocess(image.png), in [-1, 1]",
            "mask_condition": "[1, 1, H, W]: mask_processor.preprocess(mask.png), 1 repaints",
            "masked_image": "[1, 3, H, W]: init_image * (mask_condition < 0.5), what the VAE encodes",
            "latent_mask": "[1, 1, H/8, W/8]: prepare_mask_latents' mask, beside the latent",
        },
        "init_image": rounded(init_image),
        "mask_condition": rounded(mask_condition),
        "masked_image": rounded(masked_image),
        "latent_mask": rounded(latent_mask),
    }
    with open(os.path.join(out, "inpaint.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    sd.print_sizes(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
