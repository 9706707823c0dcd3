"""sd15-tiny (SD 1.x structure, diffusers 0.25.1 goldens): export with the command line, then every
golden array, the tokenizer file and the pipeline files."""

import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from support import REFERENCE, GoldenChecks, export, read_json
from tokenizer_json_reader import encode


class Sd15TinyExport(GoldenChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reference = os.path.join(REFERENCE, "sd15-tiny")
        cls.tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        cls.out = os.path.join(cls.tmp, "sd15")
        cls.log = export(os.path.join(cls.reference, "checkpoint"), cls.out)
        cls.golden = np.load(os.path.join(cls.reference, "golden.npz"))
        cls.meta = read_json(os.path.join(cls.reference, "golden.json"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_writes_exactly_the_pipeline_files(self):
        self.assertEqual(sorted(os.listdir(self.out)), [
            "pipeline.json", "scheduler_config.json", "text_encoder.pt", "tokenizer.json", "unet.pt",
            "vae_decoder.pt", "vae_encoder.pt"])
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".export-")], [])

    def test_text_encoder(self):
        with torch.no_grad():
            out = self.load("text_encoder.pt")(torch.from_numpy(self.golden["tokenizer.input_ids"]))
        self.assert_close(out, "text_encoder.last_hidden_state")

    def test_text_encoder_clip_skip(self):
        self.check_clip_skip("text_encoder.last_hidden_state")

    def test_unet_per_row_timesteps(self):
        self.check_unet_cases("abcd")

    def test_vae(self):
        self.check_vae()

    def test_tokenizer_json_is_transformers_conversion(self):
        with open(os.path.join(self.out, "tokenizer.json"), encoding="utf-8") as f:
            written = f.read()
        with open(os.path.join(self.reference, "expected_tokenizer.json"), encoding="utf-8") as f:
            expected = f.read()
        self.assertEqual(read_json(os.path.join(self.out, "tokenizer.json")),
                         read_json(os.path.join(self.reference, "expected_tokenizer.json")))
        self.assertEqual(written, expected, "byte-identical, not only equal as JSON")

    def test_tokenizer_json_gives_golden_ids(self):
        tok = read_json(os.path.join(self.out, "tokenizer.json"))
        for prompt, ids in zip(self.meta["prompts"], self.golden["tokenizer.input_ids"]):
            self.assertEqual(encode(tok, prompt["text"], 77, 833), ids.tolist(), prompt["name"])

    def test_pipeline_json(self):
        # without --name the checkpoint folder's name, here "checkpoint"
        spec = read_json(os.path.join(self.out, "pipeline.json"))
        self.assertEqual(spec, {
            "format": "stipple-pipeline/1", "name": "checkpoint", "description": spec["description"],
            "latent_channels": 4, "vae_scale_factor": 8, "scaling_factor": 0.18215, "text_max_length": 77,
            "pad_token_id": 833, "default_width": 64, "default_height": 64, "size_multiple": 64,
            "max_clip_skip": 1,  # 2 layers: hidden_states[-2] is the first layer's
            "default_steps": 30, "default_guidance_scale": 7.5, "default_sampler": "dpmpp_2m"})

    def test_scheduler_config_keeps_schedule_and_turns_clipping_off(self):
        self.assertEqual(read_json(os.path.join(self.out, "scheduler_config.json")), {
            "_class_name": "PNDMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085,
            "beta_end": 0.012, "beta_schedule": "scaled_linear", "trained_betas": None,
            "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading",
            "set_alpha_to_one": False, "clip_sample": False})

    def test_rows_are_independent_at_other_sizes(self):
        unet = self.load("unet.pt")
        g = torch.Generator().manual_seed(5)
        x = torch.randn(3, 4, 24, 16, generator=g)
        t = torch.tensor([999.0, 500.5, 0.25])
        c = torch.randn(3, 77, 32, generator=g)
        with torch.no_grad():
            full = unet(x, t, c)
            for i in range(3):
                torch.testing.assert_close(unet(x[i:i + 1], t[i:i + 1], c[i:i + 1]), full[i:i + 1],
                                           rtol=1e-4, atol=1e-5)

    def test_summary_names_architecture_and_errors(self):
        self.assertIn("OpenAI CLIP (SD 1.x-like)", self.log)
        self.assertIn("unet.pt: traced vs eager max relative error", self.log)

    def test_reexport_is_byte_identical(self):
        again = os.path.join(self.tmp, "again")
        export(os.path.join(self.reference, "checkpoint"), again)
        for name in os.listdir(self.out):
            with open(os.path.join(self.out, name), "rb") as a, open(os.path.join(again, name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)


if __name__ == "__main__":
    unittest.main()
