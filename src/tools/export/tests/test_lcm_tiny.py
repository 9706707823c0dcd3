"""lcm-tiny (a guidance-embedded, LCM-distilled SD 1.x-like U-Net with time_cond_proj_dim 256 and an
LCMScheduler config; goldens from diffusers 0.25.1's own classes, written by
src/tools/reference/make_lcm_reference.py): the 4-input unet.pt, pipeline.json's time_cond_proj_dim and
LCM defaults, the LCMScheduler keys."""

import os
import shutil
import tempfile
import unittest

import numpy as np
import torch

from support import REFERENCE, GoldenChecks, export, read_json
from unet import guidance_scale_embedding


class LcmTinyExport(GoldenChecks, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.reference = os.path.join(REFERENCE, "lcm-tiny")
        cls.tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        cls.out = os.path.join(cls.tmp, "lcm")
        cls.log = export(os.path.join(cls.reference, "checkpoint"), cls.out, "--name", "lcm-tiny")
        cls.golden = np.load(os.path.join(cls.reference, "golden.npz"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_pipeline_json(self):
        spec = read_json(os.path.join(self.out, "pipeline.json"))
        self.assertEqual(spec, {
            "format": "stipple-pipeline/1", "name": "lcm-tiny", "description": spec["description"],
            "latent_channels": 4, "vae_scale_factor": 8, "scaling_factor": 0.18215, "text_max_length": 77,
            "pad_token_id": 833, "default_width": 64, "default_height": 64, "size_multiple": 32,
            "time_cond_proj_dim": 256, "max_clip_skip": 1,
            # diffusers' LatentConsistencyModelPipeline.__call__ defaults
            "default_steps": 4, "default_guidance_scale": 8.5, "default_sampler": "lcm"})
        self.assertIn("LCM", spec["description"])

    def test_scheduler_config_carries_the_lcm_keys(self):
        self.assertEqual(read_json(os.path.join(self.out, "scheduler_config.json")), {
            "_class_name": "LCMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085,
            "beta_end": 0.012, "beta_schedule": "scaled_linear", "trained_betas": None,
            "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading",
            "set_alpha_to_one": True, "original_inference_steps": 50, "timestep_scaling": 10.0,
            "clip_sample": False})

    def test_unet_with_timestep_cond_is_diffusers(self):
        self.check_unet_cases("abc")

    def test_zero_timestep_cond_is_the_unet_without_it(self):
        # cond_proj has no bias: a zero guidance embedding adds nothing, which is diffusers' timestep_cond=None
        unet = self.load("unet.pt")
        g = lambda k: torch.from_numpy(self.golden[k])
        with torch.no_grad():
            out = unet(g("unet.a.sample"), g("unet.a.timestep"), g("unet.a.encoder_hidden_states"),
                       torch.zeros(2, 256))
        self.assert_close(out, "unet.a.out_without_timestep_cond")

    def test_unet_takes_exactly_four_inputs(self):
        unet = self.load("unet.pt")
        names = [i.debugName().split(".")[0] for i in unet.graph.inputs()][1:]
        self.assertEqual(names, ["sample", "timestep", "encoder_hidden_states", "timestep_cond"])
        g = lambda k: torch.from_numpy(self.golden[k])
        with self.assertRaises(RuntimeError):
            unet(g("unet.b.sample"), g("unet.b.timestep"), g("unet.b.encoder_hidden_states"))

    def test_rows_are_independent_with_their_own_guidance(self):
        unet = self.load("unet.pt")
        gen = torch.Generator().manual_seed(5)
        x = torch.randn(3, 4, 8, 12, generator=gen)
        t = torch.tensor([999.0, 500.5, 0.25])
        c = torch.randn(3, 77, 32, generator=gen)
        cond = guidance_scale_embedding(torch.tensor([7.5, 0.0, 3.0]), 256)
        with torch.no_grad():
            full = unet(x, t, c, cond)
            for i in range(3):
                torch.testing.assert_close(unet(x[i:i + 1], t[i:i + 1], c[i:i + 1], cond[i:i + 1]),
                                           full[i:i + 1], rtol=1e-4, atol=1e-5)
            same_but_guidance = unet(x, t, c, guidance_scale_embedding(torch.tensor([0.0, 0.0, 0.0]), 256))
        self.assertGreater(float((full[0] - same_but_guidance[0]).abs().max()), 1e-3)

    def test_guidance_embedding_is_diffusers(self):
        # the verification inputs the exporter feeds; diffusers' get_guidance_scale_embedding(w, 256)
        out = guidance_scale_embedding(torch.from_numpy(self.golden["guidance.w"]), 256)
        self.assert_close(out, "guidance.embedding")

    def test_vae(self):
        g = lambda k: torch.from_numpy(self.golden[k])
        with torch.no_grad():
            self.assert_close(self.load("vae_decoder.pt")(g("vae.decode.z")), "vae.decode.out")
            self.assert_close(self.load("vae_encoder.pt")(g("vae.encode.x")), "vae.encode.mean")

    def test_summary_names_the_guidance_embedding(self):
        self.assertIn("guidance embedding (time_cond_proj_dim 256: LCM)", self.log)
        self.assertIn("scheduler: LCMScheduler", self.log)
        self.assertIn("family lcm", self.log)


if __name__ == "__main__":
    unittest.main()
