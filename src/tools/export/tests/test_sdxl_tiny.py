"""sdxl-tiny (SDXL base structure; goldens from diffusers 0.25.1's own classes and transcriptions of
transformers' CLIP, made independently of this exporter, see its README): both text encoders at their
penultimate layers, the pooled text_embeds, clip skip, the U-Net's text_time conditions, the VAE,
StableDiffusionXLPipeline.encode_prompt rebuilt from the exported encoders, both tokenizer files and the
pipeline files."""

import json
import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from support import REFERENCE, GoldenChecks, export, read_json, relative_error
from safetensors_io import read_safetensors, write_safetensors
from tokenizer_json_reader import encode
from unet import guidance_scale_embedding

UNET_INPUTS = ("sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids")


class SdxlTinyExport(GoldenChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reference = os.path.join(REFERENCE, "sdxl-tiny")
        cls.tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        cls.out = os.path.join(cls.tmp, "sdxl")
        cls.log = export(os.path.join(cls.reference, "checkpoint"), cls.out, "--name", "sdxl-tiny")
        cls.golden = np.load(os.path.join(cls.reference, "golden.npz"))
        cls.meta = read_json(os.path.join(cls.reference, "golden.json"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def g(self, name: str) -> torch.Tensor:
        return torch.from_numpy(self.golden[name])

    def test_writes_exactly_the_pipeline_files(self):
        self.assertEqual(sorted(os.listdir(self.out)), [
            "pipeline.json", "scheduler_config.json", "text_encoder.pt", "text_encoder_2.pt", "tokenizer.json",
            "tokenizer_2.json", "unet.pt", "vae_decoder.pt", "vae_encoder.pt"])

    def test_text_encoder_gives_the_penultimate_layer(self):
        with torch.no_grad():
            out = self.load("text_encoder.pt")(self.g("tokenizer.input_ids"))
        self.assert_close(out, "text_encoder.hidden_states_m2")
        self.assertGreater(relative_error(out, self.golden["text_encoder.last_hidden_state"]), 1e-2)

    def test_text_encoder_2_gives_the_penultimate_layer_and_the_pooled_projection(self):
        with torch.no_grad():
            hidden, pooled = self.load("text_encoder_2.pt")(self.g("tokenizer_2.input_ids"))
        self.assert_close(hidden, "text_encoder_2.hidden_states_m2")
        self.assert_close(pooled, "text_encoder_2.text_embeds")

    def test_clip_skip_moves_the_hidden_states_but_never_the_pooled_embeddings(self):
        one = torch.ones(12, dtype=torch.int64)
        with torch.no_grad():
            self.assert_close(self.load("text_encoder.pt")(self.g("tokenizer.input_ids"), one),
                              "text_encoder.hidden_states_m3")
            hidden, pooled = self.load("text_encoder_2.pt")(self.g("tokenizer_2.input_ids"), one)
        self.assert_close(hidden, "text_encoder_2.hidden_states_m3")
        self.assert_close(pooled, "text_encoder_2.text_embeds")
        self.assertGreater(relative_error(hidden, self.golden["text_encoder_2.hidden_states_m2"]), 1e-3)

    def test_clip_skip_per_row(self):
        skips = torch.tensor([1, 0, 1, 0])
        for file, ids, layers in (("text_encoder.pt", "tokenizer.input_ids", "text_encoder"),
                                  ("text_encoder_2.pt", "tokenizer_2.input_ids", "text_encoder_2")):
            with torch.no_grad():
                out = self.load(file)(self.g(ids)[:4], skips)
            hidden = out[0] if isinstance(out, tuple) else out
            for row, skip in enumerate(skips.tolist()):
                expected = self.golden[f"{layers}.hidden_states_m{2 + skip}"][row]
                self.assertLessEqual(relative_error(hidden[row], expected), 1e-6, f"{file} row {row}")

    def test_one_input_call_is_clip_skip_zero_exactly(self):
        for file, ids in (("text_encoder.pt", "tokenizer.input_ids"), ("text_encoder_2.pt", "tokenizer_2.input_ids")):
            module = self.load(file)
            with torch.no_grad():
                alone, zero = module(self.g(ids)), module(self.g(ids), torch.zeros(12, dtype=torch.int64))
            for a, z in zip(alone if isinstance(alone, tuple) else (alone,), zero if isinstance(zero, tuple) else (zero,)):
                self.assertTrue(torch.equal(a, z), file)

    def test_unet_with_text_time_conditions(self):
        unet = self.load("unet.pt")
        with torch.no_grad():
            for case in "abcd":
                self.assert_close(unet(*(self.g(f"unet.{case}.{name}") for name in UNET_INPUTS)), f"unet.{case}.out")

    def test_unet_takes_the_contract_inputs(self):
        names = [i.debugName().split(".")[0] for i in self.load("unet.pt").graph.inputs()][1:]
        self.assertEqual(names, list(UNET_INPUTS))

    def test_every_unet_input_moves_the_output(self):
        # the reference is only as good as its sensitivity (README): each input, changed, moves the output
        unet = self.load("unet.pt")
        inputs = {name: self.g(f"unet.a.{name}") for name in UNET_INPUTS}
        swapped = inputs["time_ids"][:, [1, 0, 3, 2, 5, 4]]
        changes = {"timestep": torch.full((3,), 500.0), "encoder_hidden_states": inputs["encoder_hidden_states"] * 0,
                   "text_embeds": inputs["text_embeds"] * 0, "time_ids": swapped}
        with torch.no_grad():
            base = unet(*inputs.values())
            for name, value in changes.items():
                moved = unet(*dict(inputs, **{name: value}).values())
                self.assertGreater(relative_error(moved, base.numpy()), 1e-3, name)

    def test_rows_are_independent_with_their_own_time_ids(self):
        unet = self.load("unet.pt")
        gen = torch.Generator().manual_seed(5)
        x, c = torch.randn(3, 4, 8, 16, generator=gen), torch.randn(3, 77, 96, generator=gen)
        pooled = torch.randn(3, 64, generator=gen)
        t = torch.tensor([999.0, 500.5, 0.25])
        ids = torch.tensor([[1024.0, 1024, 0, 0, 1024, 1024], [64, 128, 0, 0, 64, 128], [512, 640, 16, 8, 1024, 1280]])
        with torch.no_grad():
            full = unet(x, t, c, pooled, ids)
            for i in range(3):
                row = slice(i, i + 1)
                torch.testing.assert_close(unet(x[row], t[row], c[row], pooled[row], ids[row]), full[row],
                                           rtol=1e-4, atol=1e-5)

    def test_vae(self):
        self.check_vae()

    def test_encode_prompt_from_the_two_encoders(self):
        # StableDiffusionXLPipeline.encode_prompt: encoder 1's then encoder 2's hidden states on the feature axis,
        # clip_skip for the prompt only, encoder 2's text_embeds pooled; zeros for negative_prompt=None
        first, second = self.load("text_encoder.pt"), self.load("text_encoder_2.pt")

        def encode_pair(prefix, clip_skip):
            skip = torch.tensor([clip_skip or 0])
            with torch.no_grad():
                hidden_2, pooled = second(self.g(prefix + "input_ids_2"), skip)
                return torch.cat([first(self.g(prefix + "input_ids"), skip), hidden_2], dim=-1), pooled

        for case in self.meta["encode_prompt_cases"]:
            p = f"encode_prompt.{case['name']}."
            embeds, pooled = encode_pair(p, case["clip_skip"])
            self.assert_close(embeds, p + "prompt_embeds")
            self.assert_close(pooled, p + "pooled_prompt_embeds")
            if case["negative_prompt"] is None:
                self.assertEqual(np.abs(self.golden[p + "negative_prompt_embeds"]).max(), 0)
                self.assertEqual(np.abs(self.golden[p + "negative_pooled_prompt_embeds"]).max(), 0)
            else:
                embeds, pooled = encode_pair(p + "negative_", None)
                self.assert_close(embeds, p + "negative_prompt_embeds")
                self.assert_close(pooled, p + "negative_pooled_prompt_embeds")

    def test_tokenizer_files_are_transformers_conversions(self):
        for name in ("tokenizer.json", "tokenizer_2.json"):
            with open(os.path.join(self.out, name), encoding="utf-8") as f, \
                    open(os.path.join(self.reference, "expected_" + name), encoding="utf-8") as e:
                self.assertEqual(f.read(), e.read(), name)

    def test_tokenizer_files_give_golden_ids_with_their_pad_ids(self):
        spec = read_json(os.path.join(self.out, "pipeline.json"))
        for name, golden, pad in (("tokenizer.json", "tokenizer.input_ids", spec["pad_token_id"]),
                                  ("tokenizer_2.json", "tokenizer_2.input_ids", spec["pad_token_id_2"])):
            tok = read_json(os.path.join(self.out, name))
            for prompt, ids in zip(self.meta["prompts"], self.golden[golden]):
                self.assertEqual(encode(tok, prompt["text"], 77, pad), ids.tolist(), f"{name} {prompt['name']}")

    def test_pipeline_json(self):
        spec = read_json(os.path.join(self.out, "pipeline.json"))
        self.assertEqual(spec, {
            "format": "stipple-pipeline/1", "name": "sdxl-tiny", "description": spec["description"],
            "latent_channels": 4, "vae_scale_factor": 8, "scaling_factor": 0.13025, "text_max_length": 77,
            "pad_token_id": 833, "default_width": 128, "default_height": 128, "size_multiple": 32,
            "pad_token_id_2": 0, "addition_embed_type": "text_time", "force_zeros_for_empty_prompt": True,
            "max_clip_skip": 1,  # 3 layers: hidden_states[-3] is the first layer's
            # StableDiffusionXLPipeline.__call__'s defaults; the checkpoint's EulerDiscreteScheduler
            "default_steps": 50, "default_guidance_scale": 5.0, "default_sampler": "euler"})
        self.assertIn("Stable Diffusion XL", spec["description"])

    def test_scheduler_config(self):
        self.assertEqual(read_json(os.path.join(self.out, "scheduler_config.json")), {
            "_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085,
            "beta_end": 0.012, "beta_schedule": "scaled_linear", "trained_betas": None,
            "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading", "clip_sample": False})

    def test_turbo_defaults(self):
        out = os.path.join(self.tmp, "turbo")
        export(os.path.join(self.reference, "checkpoint"), out, "--turbo")
        spec = read_json(os.path.join(out, "pipeline.json"))
        # Turbo's one step without guidance, with the checkpoint's Euler (SDXL-Turbo's own config, Euler
        # ancestral, gives euler_a: test_pipeline_files)
        self.assertEqual((spec["default_steps"], spec["default_guidance_scale"], spec["default_sampler"]),
                         (1, 0.0, "euler"))

    def test_lcm_sdxl_takes_timestep_cond_last(self):
        # LCM-SDXL: a text_time U-Net with time_cond_proj_dim and an LCMScheduler config
        checkpoint = os.path.join(self.tmp, "lcm-sdxl")
        shutil.copytree(os.path.join(self.reference, "checkpoint"), checkpoint)
        for root, dirs, files in os.walk(checkpoint):
            for name in dirs + files:
                os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
        for file, changes in (("unet/config.json", {"time_cond_proj_dim": 256}),
                              ("scheduler/scheduler_config.json", {"_class_name": "LCMScheduler"})):
            config = read_json(os.path.join(checkpoint, file))
            config.update(changes)
            with open(os.path.join(checkpoint, file), "w") as f:
                json.dump(config, f)
        weights = os.path.join(checkpoint, "unet", "diffusion_pytorch_model.safetensors")
        tensors = {name: tensor.clone() for name, tensor in read_safetensors(weights).items()}
        tensors["time_embedding.cond_proj.weight"] = torch.randn(32, 256, generator=torch.Generator().manual_seed(1))
        write_safetensors(weights, tensors)
        out = os.path.join(self.tmp, "lcm-sdxl-out")
        export(checkpoint, out)
        spec = read_json(os.path.join(out, "pipeline.json"))
        self.assertEqual((spec["time_cond_proj_dim"], spec["default_sampler"], spec["addition_embed_type"]),
                         (256, "lcm", "text_time"))
        unet = torch.jit.load(os.path.join(out, "unet.pt"))
        names = [i.debugName().split(".")[0] for i in unet.graph.inputs()][1:]
        self.assertEqual(names, list(UNET_INPUTS) + ["timestep_cond"])
        inputs = [self.g(f"unet.a.{name}") for name in UNET_INPUTS]
        with torch.no_grad():
            # cond_proj has no bias: a zero guidance embedding is the U-Net without it, diffusers' unet.a
            self.assert_close(unet(*inputs, torch.zeros(3, 256)), "unet.a.out")
            guided = unet(*inputs, guidance_scale_embedding(torch.tensor([7.5, 0.0, 3.0]), 256))
        self.assertGreater(relative_error(guided, self.golden["unet.a.out"]), 1e-3)

    def test_summary_names_both_encoders(self):
        self.assertIn("text encoders (SDXL, penultimate layers): OpenAI CLIP, 3 layers, width 32; "
                      "OpenCLIP, 3 layers, width 64, projection 64", self.log)
        self.assertIn("text_time added conditions (addition_time_embed_dim 8", self.log)
        self.assertIn("clip skip up to 1", self.log)


if __name__ == "__main__":
    unittest.main()
