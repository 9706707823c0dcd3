"""sd2-tiny (SD 2.x-like, goldens from diffusers 0.25.1's own classes, written by
src/tools/reference/make_sd_reference.py): gelu text encoder, "!" padding, attention_head_dim as a
per-level list, linear projections, upcast attention, 3 levels, float16 / .bin / old-name weights."""

import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from support import REFERENCE, GoldenChecks, export, read_json


class Sd2TinyExport(GoldenChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reference = os.path.join(REFERENCE, "sd2-tiny")
        cls.tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        cls.out = os.path.join(cls.tmp, "sd2")
        cls.log = export(os.path.join(cls.reference, "checkpoint"), cls.out, "--name", "SD 2 tiny")
        cls.golden = np.load(os.path.join(cls.reference, "golden.npz"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_text_encoder_gelu(self):
        with torch.no_grad():
            out = self.load("text_encoder.pt")(torch.from_numpy(self.golden["text.input_ids"]))
        self.assert_close(out, "text.last_hidden_state")

    def test_text_encoder_clip_skip(self):
        self.check_clip_skip("text.last_hidden_state")

    def test_unet(self):
        self.check_unet_cases("abc")

    def test_vae(self):
        self.check_vae()

    def test_pipeline_json(self):
        spec = read_json(os.path.join(self.out, "pipeline.json"))
        self.assertEqual(spec["name"], "SD 2 tiny")
        self.assertEqual((spec["pad_token_id"], spec["vae_scale_factor"], spec["size_multiple"],
                          spec["default_width"], spec["scaling_factor"]), (0, 4, 16, 32, 0.18215))

    def test_scheduler_defaults_of_the_source_class(self):
        sched = read_json(os.path.join(self.out, "scheduler_config.json"))
        self.assertEqual((sched["_class_name"], sched["prediction_type"], sched["timestep_spacing"],
                          sched["set_alpha_to_one"], sched["clip_sample"]),
                         ("DDIMScheduler", "v_prediction", "leading", False, False))

    def test_pad_token_is_a_special_added_token(self):
        tok = read_json(os.path.join(self.out, "tokenizer.json"))
        self.assertEqual(tok["added_tokens"][0], {"id": 0, "content": "!", "single_word": False, "lstrip": False,
                                                  "rstrip": False, "normalized": False, "special": True})
        self.assertEqual([t["id"] for t in tok["added_tokens"]], [0, 832, 833])


if __name__ == "__main__":
    unittest.main()
