"""Request defaults per family and the scheduler config rules."""

import unittest

import support  # noqa: F401  (puts the exporter on sys.path)
from checkpoint_weights import CheckpointError
from pipeline_files import pipeline_json, scheduler_config


class PipelineFiles(unittest.TestCase):
    def spec(self, family, unet_in_channels=4):
        return pipeline_json("n", "d", 4, 8, 0.18215, 77, 49407, 64, 4, family, unet_in_channels)

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

    def test_unknown_scheduler_is_refused(self):
        with self.assertRaisesRegex(CheckpointError, "_class_name = 'LCMScheduler'"):
            scheduler_config({"_class_name": "LCMScheduler"}, "s")
        with self.assertRaisesRegex(CheckpointError, "beta_schedule = 'sigmoid'"):
            scheduler_config({"_class_name": "DDIMScheduler", "beta_schedule": "sigmoid"}, "s")


if __name__ == "__main__":
    unittest.main()
