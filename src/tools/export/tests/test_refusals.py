"""What the exporter refuses, and that the message names the key (and value or file)."""

import contextlib
import io
import json
import os
import shutil
import tempfile
import unittest

import torch

from support import REFERENCE
from checkpoint_parts import request_family
import export_diffusers
from safetensors_io import read_safetensors, write_safetensors
from unet import UNetConfig

SD15 = os.path.join(REFERENCE, "sd15-tiny", "checkpoint")
LCM = os.path.join(REFERENCE, "lcm-tiny", "checkpoint")
SDXL = os.path.join(REFERENCE, "sdxl-tiny", "checkpoint")


class Refusals(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="stipple-export-test-")
        self.checkpoint = os.path.join(self.tmp, "ckpt")
        self.copy_checkpoint(SD15)

    def copy_checkpoint(self, source):
        shutil.rmtree(self.checkpoint, ignore_errors=True)
        shutil.copytree(source, self.checkpoint)
        for root, dirs, files in os.walk(self.checkpoint):
            for name in dirs + files:
                os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def edit_config(self, component, file="config.json", **changes):
        path = os.path.join(self.checkpoint, component, file)
        with open(path) as f:
            config = json.load(f)
        config.update(changes)
        with open(path, "w") as f:
            json.dump(config, f)

    def refused(self, *options) -> str:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = export_diffusers.main([self.checkpoint, os.path.join(self.tmp, "out"), *options])
        self.assertEqual(code, 2, err.getvalue())
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "out")))
        return err.getvalue()

    def edit_model_index(self, **changes):
        self.edit_config(".", file="model_index.json", **changes)

    def test_text_time_without_a_second_text_encoder(self):
        self.edit_config("unet", addition_embed_type="text_time", addition_time_embed_dim=256,
                         projection_class_embeddings_input_dim=2816)
        self.assertIn("unsupported addition_embed_type = 'text_time' without text_encoder_2", self.refused())

    def test_text_time_needs_its_dimensions(self):
        self.copy_checkpoint(SDXL)
        self.edit_config("unet", addition_time_embed_dim=None)
        self.assertIn("addition_embed_type = 'text_time' needs addition_time_embed_dim", self.refused())

    def test_other_addition_embedding(self):
        self.copy_checkpoint(SDXL)
        self.edit_config("unet", addition_embed_type="text")
        self.assertIn("unsupported addition_embed_type = 'text'", self.refused())

    def test_second_text_encoder_without_text_time(self):
        self.copy_checkpoint(SDXL)
        self.edit_config("unet", addition_embed_type=None)
        self.assertIn("unsupported addition_embed_type = None with text_encoder_2", self.refused())

    def test_sdxl_refiner(self):
        self.copy_checkpoint(SDXL)
        self.edit_model_index(requires_aesthetics_score=True, text_encoder=[None, None])
        message = self.refused()
        self.assertIn("model_index.json: unsupported requires_aesthetics_score = True (an SDXL refiner", message)
        self.assertIn("Stipple exports Stable Diffusion 1.x / 2.x and SDXL", message)

    def test_five_time_ids(self):
        # the refiner's U-Net: text_embeds and 5 time ids (no crop pair, an aesthetic score)
        self.copy_checkpoint(SDXL)
        self.edit_config("unet", projection_class_embeddings_input_dim=104)
        self.assertIn("unsupported projection_class_embeddings_input_dim = 104 (SDXL's text_time conditioning takes "
                      "text_embeds (64) and 6 time ids x addition_time_embed_dim (8) = 112)", self.refused())

    def test_controlnet_and_adapters(self):
        self.copy_checkpoint(SDXL)
        for component, what in (("controlnet", "ControlNet"), ("adapter", "T2I-Adapter")):
            self.edit_model_index(**{component: ["diffusers", "X"]})
            message = self.refused()
            self.assertIn(f"unsupported component {component} = ['diffusers', 'X'] ({what}; Stipple exports", message)
            self.edit_model_index(**{component: [None, None]})

    def test_diffusion_transformer(self):
        self.copy_checkpoint(SDXL)
        self.edit_model_index(_class_name="StableDiffusion3Pipeline", transformer=["diffusers", "SD3Transformer2DModel"],
                              unet=[None, None])
        self.assertIn("unsupported component transformer = ['diffusers', 'SD3Transformer2DModel'] "
                      "(a diffusion transformer (SD3, FLUX)", self.refused())

    def test_second_encoder_with_projection(self):
        self.copy_checkpoint(SDXL)
        self.edit_config("text_encoder_2", architectures=["CLIPTextModel"])
        self.assertIn("text_encoder_2/config.json: unsupported architectures = ['CLIPTextModel']", self.refused())

    def test_pooling_needs_eos_as_the_largest_id(self):
        self.copy_checkpoint(SDXL)
        self.edit_config("text_encoder_2", vocab_size=900)
        self.assertIn("eos_token id 833 is not the largest id (899, vocab_size - 1)", self.refused())

    def test_cross_attention_width_of_both_encoders(self):
        self.copy_checkpoint(SDXL)
        self.edit_config("unet", cross_attention_dim=64)
        self.assertIn("cross_attention_dim = 64 but the text encoders' hidden_size is 32 + 64", self.refused())

    def test_image_conditioned_unet(self):
        # instruct-pix2pix: the image's latent beside the latent, 2C channels
        self.edit_config("unet", in_channels=8)
        self.assertIn("in_channels = 8", self.refused())

    def test_inpainting_unet_is_exported_with_its_channels(self):
        self.edit_config("unet", in_channels=9)
        weights = os.path.join(self.checkpoint, "unet", "diffusion_pytorch_model.safetensors")
        # copies: the reader maps the file, which is about to be rewritten
        tensors = {name: tensor.clone() for name, tensor in read_safetensors(weights).items()}
        conv_in = tensors["conv_in.weight"]
        extra = torch.randn(conv_in.shape[0], 5, *conv_in.shape[2:], generator=torch.Generator().manual_seed(3))
        tensors["conv_in.weight"] = torch.cat([conv_in, extra * conv_in.std()], dim=1)
        write_safetensors(weights, tensors)
        out = os.path.join(self.tmp, "out")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = export_diffusers.main([self.checkpoint, out])
        self.assertEqual(code, 0, err.getvalue())
        with open(os.path.join(out, "pipeline.json")) as f:
            spec = json.load(f)
        self.assertEqual(spec["unet_in_channels"], 9)
        self.assertEqual(spec["latent_channels"], 4)
        unet = torch.jit.load(os.path.join(out, "unet.pt"))
        noise = unet(torch.randn(1, 9, 16, 16), torch.tensor([500.0]), torch.randn(1, spec["text_max_length"], 32))
        self.assertEqual(tuple(noise.shape), (1, 4, 16, 16))

    def test_num_attention_heads(self):
        self.edit_config("unet", num_attention_heads=8)
        self.assertIn("num_attention_heads = 8", self.refused())

    def test_lcm_cond_proj_weight_loads_strictly(self):
        # time_cond_proj_dim is supported (a 4th U-Net input), so its weight must be there
        self.edit_config("unet", time_cond_proj_dim=256)
        self.assertIn("missing keys: time_embedding.cond_proj.weight", self.refused())

    def test_lcm_cond_proj_weight_shape(self):
        self.copy_checkpoint(LCM)
        self.edit_config("unet", time_cond_proj_dim=128)
        self.assertIn("time_embedding.cond_proj.weight", self.refused())

    def test_time_cond_proj_dim_not_a_positive_int(self):
        for value in (0, "256", 256.0, True):
            self.edit_config("unet", time_cond_proj_dim=value)
            self.assertIn(f"time_cond_proj_dim = {value!r}", self.refused())

    def test_lcm_unet_needs_an_lcm_scheduler_config(self):
        self.copy_checkpoint(LCM)
        shutil.copyfile(os.path.join(SD15, "scheduler", "scheduler_config.json"),
                        os.path.join(self.checkpoint, "scheduler", "scheduler_config.json"))
        message = self.refused()
        self.assertIn("scheduler_config.json: unsupported _class_name = 'PNDMScheduler' for an LCM U-Net", message)
        self.assertIn("time_cond_proj_dim = 256", message)

    def test_lcm_unet_with_turbo(self):
        self.copy_checkpoint(LCM)
        self.assertIn("--turbo does not apply", self.refused("--turbo"))

    def test_plain_unet_with_an_lcm_scheduler_keeps_its_family(self):
        # an LCM-LoRA merged into a plain U-Net: classifier-free guidance, the family's defaults (and a note)
        with open(os.path.join(SD15, "unet", "config.json")) as f:
            plain = UNetConfig(json.load(f), "unet/config.json")
        lcm_scheduler = {"_class_name": "LCMScheduler"}
        self.assertEqual(request_family(plain, False, lcm_scheduler, False, "u", "s"), "sd")
        self.assertEqual(request_family(plain, False, lcm_scheduler, True, "u", "s"), "turbo")
        self.assertEqual(request_family(plain, True, lcm_scheduler, False, "u", "s"), "sdxl")

    def test_lcm_scheduler_thresholding(self):
        self.copy_checkpoint(LCM)
        self.edit_config("scheduler", file="scheduler_config.json", thresholding=True)
        self.assertIn("scheduler_config.json: unsupported thresholding = True", self.refused())

    def test_lcm_scheduler_zero_snr(self):
        self.copy_checkpoint(LCM)
        self.edit_config("scheduler", file="scheduler_config.json", rescale_betas_zero_snr=True)
        self.assertIn("unsupported rescale_betas_zero_snr = True", self.refused())

    def test_euler_scheduler_log_linear(self):
        self.edit_config("scheduler", file="scheduler_config.json", _class_name="EulerDiscreteScheduler",
                         interpolation_type="log_linear")
        self.assertIn("scheduler_config.json: unsupported interpolation_type = 'log_linear' (supported: 'linear')",
                      self.refused())

    def test_unknown_block_type(self):
        self.edit_config("unet", down_block_types=["SimpleCrossAttnDownBlock2D"] * 4)
        self.assertIn("down_block_types = ['SimpleCrossAttnDownBlock2D'", self.refused())

    def test_unknown_key_with_a_value(self):
        self.edit_config("unet", new_switch=True)
        self.assertIn("new_switch = True", self.refused())

    def test_text_activation(self):
        self.edit_config("text_encoder", hidden_act="relu")
        self.assertIn("hidden_act = 'relu'", self.refused())

    def test_second_text_encoder_without_its_tokenizer(self):
        self.edit_model_index(text_encoder_2=["transformers", "CLIPTextModelWithProjection"])
        self.assertIn("model_index.json: text_encoder_2 without tokenizer_2", self.refused())

    def test_second_text_encoder_folder(self):
        self.copy_checkpoint(SDXL)
        shutil.rmtree(os.path.join(self.checkpoint, "tokenizer_2"))
        self.assertIn("missing tokenizer_2/", self.refused())

    def rewrite_unet_weights(self, edit):
        path = os.path.join(self.checkpoint, "unet", "diffusion_pytorch_model.safetensors")
        tensors = {k: v.clone() for k, v in read_safetensors(path).items()}
        edit(tensors)
        write_safetensors(path, tensors)
        return path

    def test_missing_weight(self):
        path = self.rewrite_unet_weights(lambda t: t.pop("mid_block.attentions.0.proj_in.bias"))
        message = self.refused()
        self.assertIn("missing keys: mid_block.attentions.0.proj_in.bias", message)
        self.assertIn(path, message)

    def test_unexpected_weight(self):
        self.rewrite_unet_weights(lambda t: t.update({"conv_in.extra": t["conv_in.bias"]}))
        self.assertIn("unexpected keys: conv_in.extra", self.refused())


if __name__ == "__main__":
    unittest.main()
