#!/usr/bin/env python3
"""Clip-skip goldens for the SD 1.x / 2.x references (sd15-tiny, sd2-tiny): what diffusers'
StableDiffusionPipeline.encode_prompt computes with `clip_skip`, for the token ids of each reference's
golden.npz, written beside it as clip_skip.npz (golden.npz, made elsewhere, stays as it was).

Usage:
    /usr/bin/python3 src/tools/reference/make_clip_skip_reference.py [REFERENCE_DIR ...]
        (default: src/test/resources/sd-reference/sd15-tiny and .../sd2-tiny)

diffusers v0.25.1, pipeline_stable_diffusion.py, encode_prompt with clip_skip set:
    prompt_embeds = self.text_encoder(ids, attention_mask=None, output_hidden_states=True)
    prompt_embeds = prompt_embeds[-1][-(clip_skip + 1)]
    prompt_embeds = self.text_encoder.text_model.final_layer_norm(prompt_embeds)
for the prompt only (the negative prompt keeps last_hidden_state). The text encoder is
make_sd_reference.py's transcription of transformers' CLIPTextModel (output_hidden_states: the
embeddings, then each layer's output), loaded from the checkpoint's own weight file; it first has to
reproduce the reference's last_hidden_state golden to float32 rounding (1e-5 relative; the goldens
were made by other transcriptions, sd15-tiny's with other operation orders), which shows the weights
are read right.
"""

import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_sd_reference import REPO, ClipTextReference, save_config  # noqa: E402
from safetensors_io import read_safetensors  # noqa: E402  (make_sd_reference puts the exporter on the path)

REFERENCES = [os.path.join(REPO, "src", "test", "resources", "sd-reference", name) for name in ("sd15-tiny", "sd2-tiny")]
# golden.npz's names for the text encoder's input and output in each reference
NAMES = [("tokenizer.input_ids", "text_encoder.last_hidden_state"), ("text.input_ids", "text.last_hidden_state")]


def load_text_encoder(folder: str) -> ClipTextReference:
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        model = ClipTextReference(json.load(f)).eval()
    files = [n for n in ("model.safetensors", "pytorch_model.bin") if os.path.isfile(os.path.join(folder, n))]
    path = os.path.join(folder, files[0])
    state = read_safetensors(path) if path.endswith(".safetensors") else torch.load(path, map_location="cpu")
    targets = model.parameters_transformers()
    missing = set(targets) - set(state)
    if missing:
        raise SystemExit(f"{path}: missing {sorted(missing)}")
    with torch.no_grad():
        for name, parameter in targets.items():
            parameter.copy_(state[name])
    return model


def encode_prompt_clip_skip(model: ClipTextReference, ids: torch.Tensor, clip_skip: int) -> torch.Tensor:
    return model.final_layer_norm(model.hidden_states(ids)[-(clip_skip + 1)])


def main(argv) -> int:
    torch.set_num_threads(1)
    for reference in argv or REFERENCES:
        golden = np.load(os.path.join(reference, "golden.npz"))
        ids_name, last_name = next((i, o) for i, o in NAMES if i in golden.files)
        model = load_text_encoder(os.path.join(reference, "checkpoint", "text_encoder"))
        ids = torch.from_numpy(golden[ids_name])
        last = golden[last_name]
        with torch.no_grad():
            reproduced = float(np.abs(model(ids).numpy() - last).max() / np.abs(last).max())
            if not reproduced <= 1e-5:
                raise SystemExit(f"{reference}: the transcription does not reproduce {last_name} "
                                 f"(relative error {reproduced:.2e})")
            arrays, what, moved = {"input_ids": golden[ids_name]}, {}, {}
            what["input_ids"] = f"golden.npz's {ids_name}"
            for clip_skip in range(1, model.c["num_hidden_layers"]):
                name = f"clip_skip_{clip_skip}"
                arrays[name] = encode_prompt_clip_skip(model, ids, clip_skip).numpy()
                what[name] = (f"final_layer_norm(CLIPTextModel(input_ids, output_hidden_states=True)"
                              f".hidden_states[-{clip_skip + 1}]): diffusers 0.25.1 encode_prompt's prompt_embeds "
                              f"with clip_skip={clip_skip}")
                moved[name] = float(np.abs(arrays[name] - last).max() / np.abs(last).max())
                if moved[name] < 1e-3:
                    raise SystemExit(f"{reference}: clip_skip {clip_skip} moves the output by only {moved[name]:.1e}")
        np.savez_compressed(os.path.join(reference, "clip_skip.npz"), **arrays)
        save_config(os.path.join(reference, "clip_skip.json"), {
            "tool": "src/tools/reference/make_clip_skip_reference.py", "torch_version": torch.__version__,
            "arrays": what, "last_hidden_state_reproduced_to": reproduced,
            "relative_change_from_last_hidden_state": moved})
        print(f"{reference}: clip_skip.npz {sorted(arrays)}; change from {last_name}: {moved}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
