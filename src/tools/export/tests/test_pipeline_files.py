"""Request defaults per family and the scheduler config rules."""

import json
import os
import shutil
import tempfile
import unittest

from support import REFERENCE, export, read_json  # support puts the exporter on sys.path
from checkpoint_weights import CheckpointError
from pipeline_files import default_sampler, pipeline_json, scheduler_config


class PipelineFiles(unittest.TestCase):
    def spec(self, family, unet_in_channels=4, time_cond_proj_dim=None, sampler=None):
        return pipeline_json("n", "d", 4, 8, 0.18215, 77, 49407, 64, 4, family, unet_in_channels,
                             time_cond_proj_dim, sampler)

    def test_unet_in_channels_only_for_an_inpainting_unet(self):
        self.assertNotIn("unet_in_channels", self.spec("sd"))
        self.assertEqual(self.spec("sd", unet_in_channels=9)["unet_in_channels"], 9)

    def test_sd_defaults(self):
        spec = self.spec("sd")
        self.assertEqual((spec["default_steps"], spec["default_guidance_scale"], spec["default_sampler"]),
                         (30, 7.5, "dpmpp_2m"))
        self.assertEqual((spec["default_width"], spec["size_multiple"]), (512, 64))

    def test_turbo_defaults(self):
        spec = self.spec("turbo")
        self.assertEqual((spec["default_steps"], spec["default_guidance_scale"], spec["default_sampler"]),
                         (1, 0.0, "euler_a"))

    def test_lcm_defaults_and_time_cond_proj_dim(self):
        self.assertNotIn("time_cond_proj_dim", self.spec("sd"))
        spec = self.spec("lcm", time_cond_proj_dim=256)
        self.assertEqual(spec["time_cond_proj_dim"], 256)
        # diffusers' LatentConsistencyModelPipeline.__call__: num_inference_steps=4, guidance_scale=8.5
        self.assertEqual((spec["default_steps"], spec["default_guidance_scale"], spec["default_sampler"]),
                         (4, 8.5, "lcm"))

    def test_sdxl_defaults_and_keys(self):
        second = {"pad_token_id_2": 0, "addition_embed_type": "text_time", "force_zeros_for_empty_prompt": True}
        spec = pipeline_json("n", "d", 4, 8, 0.13025, 77, 49407, 128, 3, "sdxl", 4, second_encoder=second,
                             max_clip_skip=10)
        # StableDiffusionXLPipeline.__call__: num_inference_steps=50, guidance_scale=5.0
        self.assertEqual((spec["default_steps"], spec["default_guidance_scale"], spec["default_sampler"]),
                         (50, 5.0, "euler"))
        self.assertEqual((spec["default_width"], spec["size_multiple"], spec["max_clip_skip"]), (1024, 32, 10))
        self.assertEqual({k: spec[k] for k in second}, second)
        self.assertNotIn("max_clip_skip", self.spec("sd"))

    def test_an_sdxl_checkpoint_keeps_the_sampler_of_its_scheduler(self):
        for config, sampler in (({"_class_name": "EulerAncestralDiscreteScheduler"}, "euler_a"),
                                ({"_class_name": "DDIMScheduler"}, "ddim"),
                                ({"_class_name": "DPMSolverMultistepScheduler"}, "dpmpp_2m"),
                                ({"_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": True},
                                 "dpmpp_2m_karras"),
                                ({"_class_name": "PNDMScheduler"}, "euler")):
            self.assertEqual(default_sampler("sdxl", config), sampler, config)
        # SD 1.x / 2.x keep DPM-Solver++ 2M for those
        self.assertEqual(default_sampler("sd", {"_class_name": "DDIMScheduler"}), "dpmpp_2m")

    def test_an_euler_discrete_scheduler_keeps_its_sampler(self):
        # SDXL base's scheduler: diffusers' pipelines step with it, so does Stipple
        euler = {"_class_name": "EulerDiscreteScheduler", "use_karras_sigmas": False}
        self.assertEqual(default_sampler("sd", euler), "euler")
        self.assertEqual(default_sampler("turbo", euler), "euler")
        self.assertEqual(default_sampler("sd", dict(euler, use_karras_sigmas=True)), "euler_karras")
        self.assertEqual(default_sampler("sd", {"_class_name": "EulerDiscreteScheduler"}), "euler")
        # the other classes keep the family's choice
        self.assertEqual(default_sampler("sd", {"_class_name": "PNDMScheduler"}), "dpmpp_2m")
        self.assertEqual(default_sampler("turbo", {"_class_name": "EulerAncestralDiscreteScheduler"}), "euler_a")
        self.assertEqual(default_sampler("lcm", {"_class_name": "LCMScheduler"}), "lcm")
        self.assertEqual(self.spec("sd", sampler="euler")["default_sampler"], "euler")

    def test_euler_options_the_sampler_lacks_are_refused(self):
        for key, value in (("interpolation_type", "log_linear"), ("timestep_type", "continuous"),
                           ("rescale_betas_zero_snr", True), ("sigma_min", 0.002), ("sigma_max", 80.0)):
            with self.assertRaisesRegex(CheckpointError, f"^s: unsupported {key} = {value!r}"):
                scheduler_config({"_class_name": "EulerDiscreteScheduler", key: value}, "s")
        # SDXL base's scheduler_config.json spells out the supported settings
        out = scheduler_config({"_class_name": "EulerDiscreteScheduler", "interpolation_type": "linear",
                                "timestep_type": "discrete", "rescale_betas_zero_snr": False, "sigma_min": None,
                                "sigma_max": None, "use_karras_sigmas": True}, "s")
        self.assertNotIn("interpolation_type", out)
        self.assertNotIn("use_karras_sigmas", out)

    def test_missing_keys_take_the_source_class_defaults(self):
        euler = scheduler_config({"_class_name": "EulerDiscreteScheduler", "prediction_type": "v_prediction",
                                  "trained_betas": [0.1] * 4, "num_train_timesteps": 4}, "s")
        self.assertEqual(euler, {"_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 4,
                                 "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear",
                                 "trained_betas": [0.1] * 4, "prediction_type": "v_prediction",
                                 "steps_offset": 0, "timestep_spacing": "linspace", "clip_sample": False})
        ddim = scheduler_config({"_class_name": "DDIMScheduler", "clip_sample": True}, "s")
        self.assertEqual((ddim["timestep_spacing"], ddim["set_alpha_to_one"], ddim["clip_sample"]),
                         ("leading", True, False))

    def test_lcm_scheduler_takes_its_class_defaults(self):
        # diffusers 0.25.1 LCMScheduler.__init__ defaults
        self.assertEqual(scheduler_config({"_class_name": "LCMScheduler"}, "s"), {
            "_class_name": "LCMScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085,
            "beta_end": 0.012, "beta_schedule": "scaled_linear", "trained_betas": None,
            "prediction_type": "epsilon", "steps_offset": 0, "timestep_spacing": "leading",
            "set_alpha_to_one": True, "original_inference_steps": 50, "timestep_scaling": 10.0,
            "clip_sample": False})

    def test_lcm_scheduler_keys_are_carried(self):
        out = scheduler_config({"_class_name": "LCMScheduler", "original_inference_steps": 25,
                                "timestep_scaling": 5.0, "set_alpha_to_one": False, "steps_offset": 1,
                                "thresholding": False, "rescale_betas_zero_snr": False}, "s")
        self.assertEqual((out["original_inference_steps"], out["timestep_scaling"], out["set_alpha_to_one"],
                          out["steps_offset"]), (25, 5.0, False, 1))
        self.assertNotIn("thresholding", out)
        # the other classes do not get the LCM keys (their samplers would not read them)
        self.assertNotIn("original_inference_steps", scheduler_config({"_class_name": "DDIMScheduler"}, "s"))

    def test_lcm_options_the_server_lacks_are_refused(self):
        for key, value in (("thresholding", True), ("rescale_betas_zero_snr", True),
                           ("original_inference_steps", 0), ("original_inference_steps", 2000),
                           ("original_inference_steps", 50.0), ("timestep_scaling", 0)):
            with self.assertRaisesRegex(CheckpointError, f"^s: unsupported {key} = {value!r}"):
                scheduler_config({"_class_name": "LCMScheduler", key: value}, "s")

    def test_unknown_scheduler_is_refused(self):
        with self.assertRaisesRegex(CheckpointError, "_class_name = 'HeunDiscreteScheduler'"):
            scheduler_config({"_class_name": "HeunDiscreteScheduler"}, "s")
        with self.assertRaisesRegex(CheckpointError, "beta_schedule = 'sigmoid'"):
            scheduler_config({"_class_name": "DDIMScheduler", "beta_schedule": "sigmoid"}, "s")


class EulerCheckpointExport(unittest.TestCase):
    """sd15-tiny with a scheduler config shaped like SDXL base 1.0's, exported with the command line."""

    SDXL_SCHEDULER = {"_class_name": "EulerDiscreteScheduler", "_diffusers_version": "0.19.0.dev0",
                      "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085,
                      "clip_sample": False, "interpolation_type": "linear", "num_train_timesteps": 1000,
                      "prediction_type": "epsilon", "sample_max_value": 1.0, "set_alpha_to_one": False,
                      "skip_prk_steps": True, "steps_offset": 1, "timestep_spacing": "leading",
                      "trained_betas": None, "use_karras_sigmas": False}

    def test_defaults_to_euler_with_the_schedule_it_names(self):
        tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        try:
            checkpoint = os.path.join(tmp, "ckpt")
            shutil.copytree(os.path.join(REFERENCE, "sd15-tiny", "checkpoint"), checkpoint)
            path = os.path.join(checkpoint, "scheduler", "scheduler_config.json")
            os.chmod(path, 0o644)
            with open(path, "w") as f:
                json.dump(self.SDXL_SCHEDULER, f)
            export(checkpoint, os.path.join(tmp, "out"))
            self.assertEqual(read_json(os.path.join(tmp, "out", "pipeline.json"))["default_sampler"], "euler")
            self.assertEqual(read_json(os.path.join(tmp, "out", "scheduler_config.json")), {
                "_class_name": "EulerDiscreteScheduler", "num_train_timesteps": 1000, "beta_start": 0.00085,
                "beta_end": 0.012, "beta_schedule": "scaled_linear", "trained_betas": None,
                "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "leading",
                "clip_sample": False})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
