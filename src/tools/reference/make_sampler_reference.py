#!/usr/bin/env python3
"""Reference timesteps and sampling trajectories for Stipple's Java scheduler ports.

Usage:
    /usr/bin/python3 src/tools/reference/make_sampler_reference.py [OUT_JSON]
    (default OUT_JSON: src/test/resources/reference/samplers.json)
    /usr/bin/python3 src/tools/reference/make_sampler_reference.py --check-diffusers DIFFUSERS_SRC
    (replays the Euler cases through diffusers' real EulerDiscreteScheduler, imported from DIFFUSERS_SRC, e.g.
     /tmp/diffusers-0.25.1/src after `git --git-dir=DIFFUSERS_GIT archive v0.25.1 src | tar -x -C
     /tmp/diffusers-0.25.1`, as make_sd_reference.py imports it, and compares; writes nothing)

Needs only PyTorch (tested with 1.13) and numpy; diffusers itself is NOT required. This file is
an independent, compact transcription of the parts of HuggingFace diffusers that the Java code
reimplements (diffusers main branch as of 2025, Apache-2.0):

  src/diffusers/schedulers/scheduling_ddim.py
      betas_for_alpha_bar (cosine), DDIMScheduler.__init__, .set_timesteps, ._get_variance, .step
      (thresholding / rescale_betas_zero_snr / use_clipped_model_output are not transcribed)
  src/diffusers/schedulers/scheduling_dpmsolver_multistep.py
      DPMSolverMultistepScheduler.__init__, .set_timesteps, ._sigma_to_t, ._sigma_to_alpha_sigma_t,
      ._convert_to_karras, .convert_model_output, .dpm_solver_first_order_update,
      .multistep_dpm_solver_second_order_update, .index_for_timestep, .step
      (only algorithm_type "dpmsolver++", solver_type "midpoint", solver_order 2,
       final_sigmas_type "zero", lambda_min_clipped -inf)
  src/diffusers/schedulers/scheduling_euler_ancestral_discrete.py
      EulerAncestralDiscreteScheduler.__init__, .init_noise_sigma, .set_timesteps,
      .index_for_timestep, .scale_model_input, .step
  add_noise and set_begin_index of all three, and the timestep selection (get_timesteps), noising and,
  for inpainting with a 4-channel U-Net, the per-step latent blend of
  src/diffusers/pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py and
  pipeline_stable_diffusion_inpaint.py
  src/diffusers/schedulers/scheduling_euler_discrete.py at v0.25.1 (the version Stipple's SDXL support
  follows; its pipelines set no begin index)
      EulerDiscreteScheduler.__init__, .init_noise_sigma, .set_timesteps (interpolation_type "linear"),
      ._sigma_to_t, ._convert_to_karras, ._init_step_index, .scale_model_input, .add_noise, .step with
      s_churn = 0 (timestep_type "continuous", sigma_min / sigma_max, rescale_betas_zero_snr are not
      transcribed); with the img2img and inpainting pipelines' timesteps, noising and blend as above
  src/diffusers/schedulers/scheduling_lcm.py
      LCMScheduler.__init__, .set_timesteps (without custom timesteps), ._init_step_index,
      .get_scalings_for_boundary_condition_discrete, .step, .add_noise
      (thresholding / rescale_betas_zero_snr are not transcribed)
  and the timesteps and noising of
  src/diffusers/pipelines/latent_consistency_models/pipeline_latent_consistency_img2img.py
  (strength goes into set_timesteps), with the same inpainting blend as above

dtypes follow diffusers: betas / alphas_cumprod are torch float32 tensors (torch.cumprod of a
float32 tensor accumulates in double on CPU), timestep selection is done in numpy, sigma
arrays are float32 tensors, and all per-step arithmetic is float32 tensor arithmetic.
"""

import json
import math
import os
import sys

import numpy as np
import torch

DEFAULT_OUT = os.path.join("src", "test", "resources", "reference", "samplers.json")

# Constructor defaults of the diffusers classes (only the keys Stipple supports).
DDIM_DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                     trained_betas=None, clip_sample=True, clip_sample_range=1.0, set_alpha_to_one=True,
                     steps_offset=0, prediction_type="epsilon", timestep_spacing="leading")
DPM_DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                    trained_betas=None, prediction_type="epsilon", timestep_spacing="linspace", steps_offset=0,
                    # forced by Stipple for dpmpp_2m / dpmpp_2m_karras:
                    solver_order=2, algorithm_type="dpmsolver++", solver_type="midpoint",
                    lower_order_final=True, euler_at_final=False, final_sigmas_type="zero",
                    use_karras_sigmas=False, lambda_min_clipped=-float("inf"))
EULER_A_DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                        trained_betas=None, prediction_type="epsilon", timestep_spacing="linspace",
                        steps_offset=0)
EULER_DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                      trained_betas=None, prediction_type="epsilon", interpolation_type="linear",
                      use_karras_sigmas=False, timestep_spacing="linspace", steps_offset=0)
LCM_DEFAULTS = dict(num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                    trained_betas=None, original_inference_steps=50, clip_sample=False, clip_sample_range=1.0,
                    set_alpha_to_one=True, steps_offset=0, prediction_type="epsilon", timestep_spacing="leading",
                    timestep_scaling=10.0)


def _cfg(defaults, config, **forced):
    c = dict(defaults)
    for k, v in config.items():
        if k in c:          # diffusers' from_config ignores keys a class does not know
            c[k] = v
    c.update(forced)
    return c


def betas_for_alpha_bar(num_diffusion_timesteps, max_beta=0.999):
    def alpha_bar_fn(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = []
    for i in range(num_diffusion_timesteps):
        t1 = i / num_diffusion_timesteps
        t2 = (i + 1) / num_diffusion_timesteps
        betas.append(min(1 - alpha_bar_fn(t2) / alpha_bar_fn(t1), max_beta))
    return torch.tensor(betas, dtype=torch.float32)


def make_betas(c):
    if c["trained_betas"] is not None:
        return torch.tensor(c["trained_betas"], dtype=torch.float32)
    if c["beta_schedule"] == "linear":
        return torch.linspace(c["beta_start"], c["beta_end"], c["num_train_timesteps"], dtype=torch.float32)
    if c["beta_schedule"] == "scaled_linear":
        return torch.linspace(c["beta_start"] ** 0.5, c["beta_end"] ** 0.5, c["num_train_timesteps"],
                              dtype=torch.float32) ** 2
    if c["beta_schedule"] == "squaredcos_cap_v2":
        return betas_for_alpha_bar(c["num_train_timesteps"])
    raise NotImplementedError(c["beta_schedule"])


# ----------------------------------------------------------------------------- DDIM

class SigmaIndexed:
    """The step index of diffusers' sigma-indexed schedulers: set_begin_index, and where the first step starts."""

    def set_begin_index(self, index):
        self.begin_index = index

    def _init_step_index(self, t):
        if self.step_index is None:
            self.step_index = self.begin_index if self.begin_index is not None else self.index_for_timestep(t)


def noise_index(sched, t):
    """The sigma index of add_noise in diffusers' sigma-indexed schedulers: the begin index before the first
    step (image-to-image), the step index after it (inpainting's re-noised original), else the timestep's own."""
    if sched.begin_index is None:
        return sched.index_for_timestep(t)
    if sched.step_index is not None:
        return sched.step_index
    return sched.begin_index


class DDIM:
    def __init__(self, config):
        self.c = c = _cfg(DDIM_DEFAULTS, config)
        self.betas = make_betas(c)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.final_alpha_cumprod = torch.tensor(1.0) if c["set_alpha_to_one"] else self.alphas_cumprod[0]
        self.init_noise_sigma = 1.0

    def set_timesteps(self, n):
        c = self.c
        T = c["num_train_timesteps"]
        if n > T:
            raise ValueError("num_inference_steps > num_train_timesteps")
        self.num_inference_steps = n
        if c["timestep_spacing"] == "linspace":
            ts = np.linspace(0, T - 1, n).round()[::-1].copy().astype(np.int64)
        elif c["timestep_spacing"] == "leading":
            step_ratio = T // n
            ts = (np.arange(0, n) * step_ratio).round()[::-1].copy().astype(np.int64)
            ts += c["steps_offset"]
        elif c["timestep_spacing"] == "trailing":
            step_ratio = T / n
            ts = np.round(np.arange(T, 0, -step_ratio)).astype(np.int64)
            ts -= 1
        else:
            raise ValueError(c["timestep_spacing"])
        self.timesteps = torch.from_numpy(ts)

    def scale_model_input(self, sample, t):
        return sample

    def add_noise(self, original, noise, t):
        a = self.alphas_cumprod[int(t)]
        return a ** 0.5 * original + (1 - a) ** 0.5 * noise

    def _get_variance(self, t, prev_t):
        a_t = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.final_alpha_cumprod
        b_t = 1 - a_t
        b_prev = 1 - a_prev
        return (b_prev / b_t) * (1 - a_t / a_prev)

    def step(self, model_output, t, sample, eta=0.0, variance_noise=None):
        c = self.c
        t = int(t)
        prev_t = t - c["num_train_timesteps"] // self.num_inference_steps
        a_t = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.final_alpha_cumprod
        b_t = 1 - a_t
        if c["prediction_type"] == "epsilon":
            x0 = (sample - b_t ** 0.5 * model_output) / a_t ** 0.5
            eps = model_output
        elif c["prediction_type"] == "v_prediction":
            x0 = (a_t ** 0.5) * sample - (b_t ** 0.5) * model_output
            eps = (a_t ** 0.5) * model_output + (b_t ** 0.5) * sample
        else:
            raise ValueError(c["prediction_type"])
        if c["clip_sample"]:
            x0 = x0.clamp(-c["clip_sample_range"], c["clip_sample_range"])
        variance = self._get_variance(t, prev_t)
        std_dev_t = eta * variance ** 0.5
        direction = (1 - a_prev - std_dev_t ** 2) ** 0.5 * eps
        prev = a_prev ** 0.5 * x0 + direction
        if eta > 0:
            prev = prev + std_dev_t * variance_noise
        return prev


# ----------------------------------------------------------------------------- DPM-Solver++ 2M

class DPMpp2M(SigmaIndexed):
    def __init__(self, config, karras):
        self.c = c = _cfg(DPM_DEFAULTS, config, use_karras_sigmas=karras)
        self.betas = make_betas(c)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.alpha_t = torch.sqrt(self.alphas_cumprod)
        self.sigma_t = torch.sqrt(1 - self.alphas_cumprod)
        self.lambda_t = torch.log(self.alpha_t) - torch.log(self.sigma_t)
        self.init_noise_sigma = 1.0

    @staticmethod
    def _sigma_to_t(sigma, log_sigmas):
        log_sigma = np.log(np.maximum(sigma, 1e-10))
        dists = log_sigma - log_sigmas[:, np.newaxis]
        low_idx = np.cumsum((dists >= 0), axis=0).argmax(axis=0).clip(max=log_sigmas.shape[0] - 2)
        high_idx = low_idx + 1
        low = log_sigmas[low_idx]
        high = log_sigmas[high_idx]
        w = (low - log_sigma) / (low - high)
        w = np.clip(w, 0, 1)
        t = (1 - w) * low_idx + w * high_idx
        return t.reshape(sigma.shape)

    @staticmethod
    def _convert_to_karras(in_sigmas, n):
        sigma_min = in_sigmas[-1].item()
        sigma_max = in_sigmas[0].item()
        rho = 7.0
        ramp = np.linspace(0, 1, n)
        min_inv_rho = sigma_min ** (1 / rho)
        max_inv_rho = sigma_max ** (1 / rho)
        return (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho

    def set_timesteps(self, n):
        c = self.c
        T = c["num_train_timesteps"]
        clipped_idx = torch.searchsorted(torch.flip(self.lambda_t, [0]), c["lambda_min_clipped"])
        last_timestep = (T - clipped_idx).cpu().numpy().item()
        if c["timestep_spacing"] == "linspace":
            ts = np.linspace(0, last_timestep - 1, n + 1).round()[::-1][:-1].copy().astype(np.int64)
        elif c["timestep_spacing"] == "leading":
            step_ratio = last_timestep // (n + 1)
            ts = (np.arange(0, n + 1) * step_ratio).round()[::-1][:-1].copy().astype(np.int64)
            ts += c["steps_offset"]
        elif c["timestep_spacing"] == "trailing":
            step_ratio = T / n
            ts = np.arange(last_timestep, 0, -step_ratio).round().copy().astype(np.int64)
            ts -= 1
        else:
            raise ValueError(c["timestep_spacing"])

        sigmas = (((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5).cpu().numpy()
        log_sigmas = np.log(sigmas)
        if c["use_karras_sigmas"]:
            sigmas = np.flip(sigmas).copy()
            sigmas = self._convert_to_karras(sigmas, n)
            ts = np.array([self._sigma_to_t(s, log_sigmas) for s in sigmas])
            if c["beta_schedule"] != "squaredcos_cap_v2":
                ts = ts.round()
        else:
            sigmas = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
        sigma_last = 0  # final_sigmas_type == "zero"
        sigmas = np.concatenate([sigmas, [sigma_last]]).astype(np.float32)
        self.sigmas = torch.from_numpy(sigmas)
        self.timesteps = torch.from_numpy(ts).to(dtype=torch.int64)
        self.num_inference_steps = len(ts)
        self.model_outputs = [None] * c["solver_order"]
        self.lower_order_nums = 0
        self.step_index = None
        self.begin_index = None

    def add_noise(self, original, noise, t):
        alpha_t, sigma_t = self._sigma_to_alpha_sigma_t(self.sigmas[noise_index(self, t)])
        return alpha_t * original + sigma_t * noise

    def scale_model_input(self, sample, t):
        return sample

    def index_for_timestep(self, t):
        cand = (self.timesteps == t).nonzero()
        if len(cand) == 0:
            return len(self.timesteps) - 1
        if len(cand) > 1:
            return cand[1].item()
        return cand[0].item()

    @staticmethod
    def _sigma_to_alpha_sigma_t(sigma):
        alpha_t = 1 / ((sigma ** 2 + 1) ** 0.5)
        return alpha_t, sigma * alpha_t

    def convert_model_output(self, model_output, sample):
        alpha_t, sigma_t = self._sigma_to_alpha_sigma_t(self.sigmas[self.step_index])
        if self.c["prediction_type"] == "epsilon":
            return (sample - sigma_t * model_output) / alpha_t
        if self.c["prediction_type"] == "v_prediction":
            return alpha_t * sample - sigma_t * model_output
        raise ValueError(self.c["prediction_type"])

    def first_order_update(self, model_output, sample):
        sigma_t, sigma_s = self.sigmas[self.step_index + 1], self.sigmas[self.step_index]
        alpha_t, sigma_t = self._sigma_to_alpha_sigma_t(sigma_t)
        alpha_s, sigma_s = self._sigma_to_alpha_sigma_t(sigma_s)
        lambda_t = torch.log(alpha_t) - torch.log(sigma_t)
        lambda_s = torch.log(alpha_s) - torch.log(sigma_s)
        h = lambda_t - lambda_s
        return (sigma_t / sigma_s) * sample - (alpha_t * (torch.exp(-h) - 1.0)) * model_output

    def second_order_update(self, model_output_list, sample):
        sigma_t, sigma_s0, sigma_s1 = (self.sigmas[self.step_index + 1], self.sigmas[self.step_index],
                                       self.sigmas[self.step_index - 1])
        alpha_t, sigma_t = self._sigma_to_alpha_sigma_t(sigma_t)
        alpha_s0, sigma_s0 = self._sigma_to_alpha_sigma_t(sigma_s0)
        alpha_s1, sigma_s1 = self._sigma_to_alpha_sigma_t(sigma_s1)
        lambda_t = torch.log(alpha_t) - torch.log(sigma_t)
        lambda_s0 = torch.log(alpha_s0) - torch.log(sigma_s0)
        lambda_s1 = torch.log(alpha_s1) - torch.log(sigma_s1)
        m0, m1 = model_output_list[-1], model_output_list[-2]
        h, h_0 = lambda_t - lambda_s0, lambda_s0 - lambda_s1
        r0 = h_0 / h
        D0, D1 = m0, (1.0 / r0) * (m0 - m1)
        return ((sigma_t / sigma_s0) * sample
                - (alpha_t * (torch.exp(-h) - 1.0)) * D0
                - 0.5 * (alpha_t * (torch.exp(-h) - 1.0)) * D1)

    def step(self, model_output, t, sample):
        c = self.c
        self._init_step_index(t)
        n = len(self.timesteps)
        lower_order_final = (self.step_index == n - 1) and (
            c["euler_at_final"] or (c["lower_order_final"] and n < 15) or c["final_sigmas_type"] == "zero")
        model_output = self.convert_model_output(model_output, sample)
        for i in range(c["solver_order"] - 1):
            self.model_outputs[i] = self.model_outputs[i + 1]
        self.model_outputs[-1] = model_output
        sample = sample.to(torch.float32)
        if c["solver_order"] == 1 or self.lower_order_nums < 1 or lower_order_final:
            prev = self.first_order_update(model_output, sample)
        else:  # solver_order == 2
            prev = self.second_order_update(self.model_outputs, sample)
        if self.lower_order_nums < c["solver_order"]:
            self.lower_order_nums += 1
        prev = prev.to(model_output.dtype)
        self.step_index += 1
        return prev


# ----------------------------------------------------------------------------- Euler ancestral

def euler_timesteps(c, n):
    """The float32 timesteps of set_timesteps, written alike in EulerAncestralDiscreteScheduler and
    EulerDiscreteScheduler: fractional for linspace."""
    T = c["num_train_timesteps"]
    if c["timestep_spacing"] == "linspace":
        ts = np.linspace(0, T - 1, n, dtype=np.float32)[::-1].copy()
    elif c["timestep_spacing"] == "leading":
        step_ratio = T // n
        ts = (np.arange(0, n) * step_ratio).round()[::-1].copy().astype(np.float32)
        ts += c["steps_offset"]
    elif c["timestep_spacing"] == "trailing":
        step_ratio = T / n
        ts = (np.arange(T, 0, -step_ratio)).round().copy().astype(np.float32)
        ts -= 1
    else:
        raise ValueError(c["timestep_spacing"])
    return ts


def euler_init_noise_sigma(c, sigmas):
    """init_noise_sigma of both Euler schedulers, on the float32 inference sigmas."""
    max_sigma = sigmas.max()
    if c["timestep_spacing"] in ["linspace", "trailing"]:
        return max_sigma
    return (max_sigma ** 2 + 1) ** 0.5


class EulerAncestral(SigmaIndexed):
    def __init__(self, config):
        self.c = c = _cfg(EULER_A_DEFAULTS, config)
        self.betas = make_betas(c)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        sigmas = (((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5).cpu().numpy()
        sigmas = np.concatenate([sigmas[::-1], [0.0]]).astype(np.float32)
        self.sigmas = torch.from_numpy(sigmas)

    @property
    def init_noise_sigma(self):
        return euler_init_noise_sigma(self.c, self.sigmas)

    def set_timesteps(self, n):
        ts = euler_timesteps(self.c, n)
        sigmas = (((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5).cpu().numpy()
        sigmas = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
        sigmas = np.concatenate([sigmas, [0.0]]).astype(np.float32)
        self.sigmas = torch.from_numpy(sigmas)
        self.timesteps = torch.from_numpy(ts)
        self.step_index = None
        self.begin_index = None

    def index_for_timestep(self, t):
        indices = (self.timesteps == t).nonzero()
        pos = 1 if len(indices) > 1 else 0
        return indices[pos].item()

    def add_noise(self, original, noise, t):
        return original + noise * self.sigmas[noise_index(self, t)]

    def scale_model_input(self, sample, t):
        self._init_step_index(t)
        sigma = self.sigmas[self.step_index]
        return sample / ((sigma ** 2 + 1) ** 0.5)

    def step(self, model_output, t, sample, noise):
        self._init_step_index(t)
        sigma = self.sigmas[self.step_index]
        sample = sample.to(torch.float32)
        if self.c["prediction_type"] == "epsilon":
            x0 = sample - sigma * model_output
        elif self.c["prediction_type"] == "v_prediction":
            x0 = model_output * (-sigma / (sigma ** 2 + 1) ** 0.5) + (sample / (sigma ** 2 + 1))
        else:
            raise ValueError(self.c["prediction_type"])
        sigma_from = self.sigmas[self.step_index]
        sigma_to = self.sigmas[self.step_index + 1]
        sigma_up = (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5
        sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
        derivative = (sample - x0) / sigma
        dt = sigma_down - sigma
        prev = sample + derivative * dt
        prev = prev + noise * sigma_up
        prev = prev.to(model_output.dtype)
        self.step_index += 1
        return prev


# ----------------------------------------------------------------------------- Euler (v0.25.1)

class EulerDiscrete:
    """EulerDiscreteScheduler as diffusers v0.25.1 has it: no begin index (its img2img pipelines find the first
    step's sigma by the timestep, taking the second match of a repeated one), add_noise by the timestep's only
    match, and step with the pipelines' s_churn = 0 (gamma 0, so sigma_hat is sigma and the churn noise that
    step draws is never read)."""

    def __init__(self, config, karras):
        self.c = c = _cfg(EULER_DEFAULTS, config, use_karras_sigmas=karras)
        self.betas = make_betas(c)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.step_index = None

    @property
    def init_noise_sigma(self):
        return euler_init_noise_sigma(self.c, self.sigmas)

    def set_timesteps(self, n):
        c = self.c
        ts = euler_timesteps(c, n)
        sigmas = np.array(((1 - self.alphas_cumprod) / self.alphas_cumprod) ** 0.5)
        log_sigmas = np.log(sigmas)
        if c["interpolation_type"] != "linear":
            raise ValueError(c["interpolation_type"])
        sigmas = np.interp(ts, np.arange(0, len(sigmas)), sigmas)
        if c["use_karras_sigmas"]:
            # the spaced schedule's own ends, not the training schedule's (unlike DPM-Solver)
            sigmas = DPMpp2M._convert_to_karras(sigmas, n)
            ts = np.array([DPMpp2M._sigma_to_t(s, log_sigmas) for s in sigmas])
        sigmas = torch.from_numpy(sigmas).to(dtype=torch.float32)
        self.timesteps = torch.from_numpy(ts.astype(np.float32))
        self.sigmas = torch.cat([sigmas, torch.zeros(1)])
        self.step_index = None

    def _init_step_index(self, t):
        candidates = (self.timesteps == t).nonzero()
        self.step_index = (candidates[1] if len(candidates) > 1 else candidates[0]).item()

    def scale_model_input(self, sample, t):
        if self.step_index is None:
            self._init_step_index(t)
        sigma = self.sigmas[self.step_index]
        return sample / ((sigma ** 2 + 1) ** 0.5)

    def add_noise(self, original, noise, timesteps):
        indices = [(self.timesteps == t).nonzero().item() for t in timesteps]
        return original + noise * self.sigmas[indices].flatten()

    def step(self, model_output, t, sample):
        if self.step_index is None:
            self._init_step_index(t)
        sample = sample.to(torch.float32)
        sigma = self.sigmas[self.step_index]
        sigma_hat = sigma * (0.0 + 1)
        if self.c["prediction_type"] == "epsilon":
            x0 = sample - sigma_hat * model_output
        elif self.c["prediction_type"] == "v_prediction":
            x0 = model_output * (-sigma / (sigma ** 2 + 1) ** 0.5) + (sample / (sigma ** 2 + 1))
        else:
            raise ValueError(self.c["prediction_type"])
        derivative = (sample - x0) / sigma_hat
        dt = self.sigmas[self.step_index + 1] - sigma_hat
        prev = sample + derivative * dt
        prev = prev.to(model_output.dtype)
        self.step_index += 1
        return prev


# ----------------------------------------------------------------------------- LCM

class LCM:
    def __init__(self, config):
        self.c = c = _cfg(LCM_DEFAULTS, config)
        self.betas = make_betas(c)
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.final_alpha_cumprod = torch.tensor(1.0) if c["set_alpha_to_one"] else self.alphas_cumprod[0]
        self.init_noise_sigma = 1.0

    def set_timesteps(self, n, strength=1.0):
        c = self.c
        T = c["num_train_timesteps"]
        original_steps = c["original_inference_steps"]
        if original_steps > T:
            raise ValueError("original_steps > num_train_timesteps")
        k = T // original_steps
        lcm_origin_timesteps = np.asarray(list(range(1, int(original_steps * strength) + 1))) * k - 1
        if n > T:
            raise ValueError("num_inference_steps > num_train_timesteps")
        skipping_step = len(lcm_origin_timesteps) // n
        if skipping_step < 1:
            raise ValueError("original_steps x strength (%d x %g) is smaller than num_inference_steps (%d)"
                             % (original_steps, strength, n))
        self.num_inference_steps = n
        if n > original_steps:
            raise ValueError("num_inference_steps > original_inference_steps")
        lcm_origin_timesteps = lcm_origin_timesteps[::-1].copy()
        inference_indices = np.linspace(0, len(lcm_origin_timesteps), num=n, endpoint=False)
        inference_indices = np.floor(inference_indices).astype(np.int64)
        self.timesteps = torch.from_numpy(lcm_origin_timesteps[inference_indices]).to(dtype=torch.long)
        self.step_index = None

    def _init_step_index(self, t):
        # no LCM pipeline sets a begin index
        if self.step_index is None:
            indices = (self.timesteps == t).nonzero()
            self.step_index = indices[1 if len(indices) > 1 else 0].item()

    def scale_model_input(self, sample, t):
        return sample

    def add_noise(self, original, noise, t):
        a = self.alphas_cumprod[int(t)]
        return a ** 0.5 * original + (1 - a) ** 0.5 * noise

    def get_scalings_for_boundary_condition_discrete(self, t):
        sigma_data = 0.5
        scaled_timestep = t * self.c["timestep_scaling"]
        c_skip = sigma_data ** 2 / (scaled_timestep ** 2 + sigma_data ** 2)
        c_out = scaled_timestep / (scaled_timestep ** 2 + sigma_data ** 2) ** 0.5
        return c_skip, c_out

    def step(self, model_output, t, sample, noise):
        c = self.c
        self._init_step_index(t)
        prev_step_index = self.step_index + 1
        prev_t = self.timesteps[prev_step_index] if prev_step_index < len(self.timesteps) else t
        a_t = self.alphas_cumprod[t]
        a_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.final_alpha_cumprod
        b_t = 1 - a_t
        b_prev = 1 - a_prev
        c_skip, c_out = self.get_scalings_for_boundary_condition_discrete(t)
        if c["prediction_type"] == "epsilon":
            x0 = (sample - b_t.sqrt() * model_output) / a_t.sqrt()
        elif c["prediction_type"] == "v_prediction":
            x0 = a_t.sqrt() * sample - b_t.sqrt() * model_output
        else:
            raise ValueError(c["prediction_type"])
        if c["clip_sample"]:
            x0 = x0.clamp(-c["clip_sample_range"], c["clip_sample_range"])
        denoised = c_out * x0 + c_skip * sample
        if self.step_index != self.num_inference_steps - 1:
            prev = a_prev.sqrt() * denoised + b_prev.sqrt() * noise
        else:
            prev = denoised
        self.step_index += 1
        return prev


def lcm_set_timesteps(sched, n, strength=1.0):
    """LCMScheduler.set_timesteps, and Stipple's rule where it raises because fewer than n of the distillation
    schedule's timesteps are left (n > original_inference_steps, or int(original_inference_steps * strength) < n):
    walk every one that is left (diffusers' own schedule for that many steps), none when none is. Returns a note
    when the rule applied, else None."""
    try:
        sched.set_timesteps(n, strength)
        return None
    except ValueError as e:
        left = int(sched.c["original_inference_steps"] * strength)
        if left == 0:
            sched.timesteps = torch.zeros(0, dtype=torch.long)
            sched.num_inference_steps = 0
            sched.step_index = None
        else:
            sched.set_timesteps(left, strength)
        return ("LCMScheduler.set_timesteps raises for %d steps (%s); Stipple's rule walks the %d timesteps left"
                % (n, e, left))


# ----------------------------------------------------------------------------- cases

def make_scheduler(sampler, config):
    if sampler == "ddim":
        return DDIM(config)
    if sampler == "dpmpp_2m":
        return DPMpp2M(config, karras=False)
    if sampler == "dpmpp_2m_karras":
        return DPMpp2M(config, karras=True)
    if sampler == "euler_a":
        return EulerAncestral(config)
    if sampler in EULER:
        return EulerDiscrete(config, karras=sampler == "euler_karras")
    if sampler == "lcm":
        return LCM(config)
    raise ValueError(sampler)


SAMPLERS = ["ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler_a"]
# after LCM in every list of cases, so that the cases before keep their seeds
EULER = ["euler", "euler_karras"]
FRACTIONAL_TIMESTEPS = ["euler_a"] + EULER
STEPS = [1, 2, 3, 4, 5, 7, 10, 15, 20, 25, 30, 50]

SD = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
      "prediction_type": "epsilon", "timestep_spacing": "leading", "steps_offset": 1,
      "set_alpha_to_one": False, "clip_sample": False}


def with_(base, **kw):
    d = dict(base)
    d.update(kw)
    return d


SD_TRAILING = with_(SD, timestep_spacing="trailing", steps_offset=0)
SD_LINSPACE = with_(SD, timestep_spacing="linspace", steps_offset=0)
EULER_SPACINGS = [("leading", SD), ("trailing", SD_TRAILING), ("linspace", SD_LINSPACE)]

# 100 trained betas, rounded to 6 decimals so the JSON stays readable.
TRAINED_BETAS = [round(0.0005 + (0.03 - 0.0005) * (i / 99.0) ** 1.5, 6) for i in range(100)]

TIMESTEP_CONFIGS = [
    ("sd_leading_offset1", SD),
    ("sd_trailing", SD_TRAILING),
    ("sd_linspace", SD_LINSPACE),
    ("linear_class_defaults", {"beta_schedule": "linear"}),
    ("empty_config", {}),
    ("cosine", {"beta_schedule": "squaredcos_cap_v2"}),
    ("cosine_trailing", {"beta_schedule": "squaredcos_cap_v2", "timestep_spacing": "trailing"}),
    ("t500_sd_leading_offset1", with_(SD, num_train_timesteps=500)),
    ("t500_linear_trailing", {"num_train_timesteps": 500, "beta_schedule": "linear",
                              "timestep_spacing": "trailing"}),
    ("t500_linear_linspace", {"num_train_timesteps": 500, "beta_schedule": "linear",
                              "timestep_spacing": "linspace"}),
    ("trained_betas_t100_leading", {"num_train_timesteps": 100, "trained_betas": TRAINED_BETAS,
                                    "timestep_spacing": "leading", "steps_offset": 1}),
]

# An LCM's scheduler_config.json (LCM_Dreamshaper_v7's keys that Stipple reads), and one distilled on fewer steps.
LCM_SD = with_(SD, _class_name="LCMScheduler", set_alpha_to_one=True, original_inference_steps=50,
               timestep_scaling=10.0)
LCM_ORIGINAL25 = with_(LCM_SD, original_inference_steps=25, timestep_scaling=5.0)

# Timestep configs for lcm only, after TIMESTEP_CONFIGS: steps above original_inference_steps take Stipple's rule.
LCM_TIMESTEP_CONFIGS = [
    ("lcm_sd", LCM_SD),
    ("lcm_original25_scaling5", LCM_ORIGINAL25),
    ("lcm_t500_original10", {"num_train_timesteps": 500, "original_inference_steps": 10}),
]


def f32(x):
    """float32 value -> JSON number with 9 significant digits (exact float32 round trip)."""
    if isinstance(x, torch.Tensor):
        x = x.item()
    x = float(np.float32(x))
    if math.isnan(x) or math.isinf(x):
        return None
    return float("%.9g" % x)


def timestep_list(sched, sampler):
    ts = sched.timesteps.numpy()
    if sampler in FRACTIONAL_TIMESTEPS:
        return [f32(t) for t in ts]
    return [int(t) for t in ts]


def degeneracy_notes(sampler, sched, n):
    T = sched.c["num_train_timesteps"]
    ts = sched.timesteps.numpy().astype(np.float64)
    notes = []
    if len(ts) != n:
        notes.append("diffusers returns %d timesteps for %d requested steps" % (len(ts), n))
    if len(set(ts.tolist())) != len(ts):
        notes.append("duplicated timesteps")
    if (ts < 0).any():
        notes.append("negative timestep")
    if (ts > T - 1).any():
        notes.append("timestep >= num_train_timesteps")
    if not np.isfinite(ts).all():
        notes.append("non-finite timestep")
    if hasattr(sched, "sigmas") and sampler != "ddim" and not torch.isfinite(sched.sigmas).all():
        notes.append("non-finite sigma")
    if len(ts) and ts[0] < 0.6 * T:
        notes.append("first timestep %g is below 0.6 * num_train_timesteps: sampling starts from pure noise "
                     "at a low noise level" % ts[0])
    if sampler == "ddim" and len(ts) > 1:
        ratio = T // sched.num_inference_steps
        gaps = -np.diff(ts)
        if not (gaps == ratio).all():
            notes.append("DDIM steps to prev_timestep = t - %d, which is not the next scheduled timestep "
                         "for some steps" % ratio)
    if sampler == "ddim" and len(ts):
        last_prev = ts[-1] - T // sched.num_inference_steps
        if last_prev >= 0:
            notes.append("DDIM last step goes to alphas_cumprod[%d], not final_alpha_cumprod" % last_prev)
    if sampler == "dpmpp_2m_karras" and sched.c["beta_schedule"] == "squaredcos_cap_v2":
        notes.append("karras + squaredcos_cap_v2: fractional timesteps are truncated (not rounded) to int64")
    return notes


def timestep_cases():
    cases = []
    for sampler in SAMPLERS + ["lcm"] + EULER:
        configs = TIMESTEP_CONFIGS + (LCM_TIMESTEP_CONFIGS if sampler == "lcm" else [])
        for cname, config in configs:
            for n in STEPS:
                sched = make_scheduler(sampler, config)
                rule = None
                if sampler == "lcm":
                    rule = lcm_set_timesteps(sched, n)
                else:
                    sched.set_timesteps(n)
                case = {"sampler": sampler, "config_name": cname, "config": config, "steps": n,
                        "timesteps": timestep_list(sched, sampler),
                        "init_noise_sigma": f32(sched.init_noise_sigma)}
                if sampler not in ("ddim", "lcm"):
                    case["sigmas"] = [f32(s) for s in sched.sigmas.numpy()]
                notes = [rule] if rule else degeneracy_notes(sampler, sched, n)
                if notes:
                    case["note"] = "; ".join(notes)
                cases.append(case)
    return cases


def schedule_checks():
    out = []
    for cname, config in TIMESTEP_CONFIGS:
        sched = DDIM(config)
        T = len(sched.alphas_cumprod)
        idx = sorted(set([0, 1, 2, T // 4, T // 2, T - 2, T - 1]))
        out.append({"config_name": cname, "config": config, "indices": idx,
                    "betas": [f32(sched.betas[i]) for i in idx],
                    "alphas_cumprod": [f32(sched.alphas_cumprod[i]) for i in idx]})
    return out


def model_fn(a, b, model_input, t):
    s = math.sin(float(t) / 100.0)
    return (torch.tensor(a, dtype=torch.float32) * model_input
            + torch.tensor(b, dtype=torch.float32) * torch.tensor(s, dtype=torch.float32))


def run_trajectory(sampler, config, n, eta, a, b, seed, shape=(1, 2, 2, 2), make=make_scheduler):
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    initial = rng.standard_normal(size).astype(np.float32)
    step_noise = rng.standard_normal((n, size)).astype(np.float32)
    sched = make(sampler, config)
    sched.set_timesteps(n)
    timesteps = sched.timesteps
    if len(timesteps) != n:
        raise RuntimeError("trajectory case with %d timesteps for %d steps" % (len(timesteps), n))
    init_sigma = sched.init_noise_sigma
    sample = torch.from_numpy(initial.reshape(shape)) * init_sigma
    samples = []
    for i, t in enumerate(timesteps):
        model_input = sched.scale_model_input(sample, t)
        model_output = model_fn(a, b, model_input, t)
        noise = torch.from_numpy(step_noise[i].reshape(shape))
        if sampler == "ddim":
            sample = sched.step(model_output, t, sample, eta=eta, variance_noise=noise)
        elif sampler in ("euler_a", "lcm"):
            sample = sched.step(model_output, t, sample, noise)
        else:
            sample = sched.step(model_output, t, sample)
        assert sample.dtype == torch.float32
        samples.append(sample.reshape(-1).numpy().copy())
    case = {"sampler": sampler, "eta": eta, "config": config, "steps": n, "shape": list(shape),
            "model": {"a": a, "b": b}, "seed": seed,
            "initial_noise": [f32(v) for v in initial],
            "step_noise": [[f32(v) for v in row] for row in step_noise],
            "timesteps": timestep_list(sched, sampler),
            "init_noise_sigma": f32(init_sigma),
            "samples": [[f32(v) for v in row] for row in samples]}
    bad = [i for i, row in enumerate(samples) if not np.isfinite(row).all()]
    if bad:
        case["note"] = "non-finite values after steps %s (stored as null)" % bad
    return case


MODELS = [(0.3, 0.02), (0.5, 0.1), (-0.2, 0.05), (0.9, -0.03)]


def trajectory_plan():
    plan = []  # (name, sampler, eta, config, steps)
    second = {"ddim": ("trailing", with_(SD, timestep_spacing="trailing", steps_offset=0)),
              "dpmpp_2m": ("linspace", with_(SD, timestep_spacing="linspace", steps_offset=0)),
              "dpmpp_2m_karras": ("linspace", with_(SD, timestep_spacing="linspace", steps_offset=0)),
              "euler_a": ("trailing", with_(SD, timestep_spacing="trailing", steps_offset=0))}
    for sampler in SAMPLERS:
        for pred, steps_a, steps_b in (("epsilon", [1, 4, 20], [4, 10]), ("v_prediction", [4, 10], [20])):
            for n in steps_a:
                plan.append(("%s_sd_leading_%s_%d" % (sampler, pred, n), sampler, 0.0,
                             with_(SD, prediction_type=pred), n))
            bname, bconf = second[sampler]
            for n in steps_b:
                plan.append(("%s_sd_%s_%s_%d" % (sampler, bname, pred, n), sampler, 0.0,
                             with_(bconf, prediction_type=pred), n))
        plan.append(("%s_t500_epsilon_10" % sampler, sampler, 0.0, with_(SD, num_train_timesteps=500), 10))
    # DDIM extras: eta > 0, clip_sample, DDIM with its own defaults
    plan.append(("ddim_eta0.5_sd_leading_epsilon_10", "ddim", 0.5, SD, 10))
    plan.append(("ddim_eta0.5_sd_leading_epsilon_20", "ddim", 0.5, SD, 20))
    plan.append(("ddim_eta0.5_sd_trailing_v_prediction_4", "ddim", 0.5,
                 with_(second["ddim"][1], prediction_type="v_prediction"), 4))
    plan.append(("ddim_clip_sample_sd_leading_epsilon_10", "ddim", 0.0, with_(SD, clip_sample=True), 10))
    plan.append(("ddim_clip_sample_defaults_v_prediction_4", "ddim", 0.0,
                 {"prediction_type": "v_prediction"}, 4))  # class defaults: clip_sample True, linear betas
    # extra euler_a / dpm coverage
    plan.append(("euler_a_sd_linspace_epsilon_10", "euler_a", 0.0,
                 with_(SD, timestep_spacing="linspace", steps_offset=0), 10))
    plan.append(("dpmpp_2m_sd_leading_epsilon_15", "dpmpp_2m", 0.0, SD, 15))
    plan.append(("dpmpp_2m_karras_cosine_epsilon_10", "dpmpp_2m_karras", 0.0,
                 {"beta_schedule": "squaredcos_cap_v2"}, 10))
    # LCM last, so that the cases before keep their seeds
    for pred in ("epsilon", "v_prediction"):
        for n in (1, 2, 4, 8):
            plan.append(("lcm_sd_%s_%d" % (pred, n), "lcm", 0.0, with_(LCM_SD, prediction_type=pred), n))
    plan.append(("lcm_defaults_epsilon_4", "lcm", 0.0, {}, 4))  # LCM's own betas, not DDIM's
    plan.append(("lcm_defaults_v_prediction_2", "lcm", 0.0, {"prediction_type": "v_prediction"}, 2))
    plan.append(("lcm_original25_scaling5_epsilon_4", "lcm", 0.0, LCM_ORIGINAL25, 4))
    plan.append(("lcm_original25_scaling5_v_prediction_8", "lcm", 0.0,
                 with_(LCM_ORIGINAL25, prediction_type="v_prediction"), 8))
    plan.append(("lcm_clip_sample_sd_epsilon_4", "lcm", 0.0, with_(LCM_SD, clip_sample=True), 4))
    # Euler after LCM: every spacing with both prediction types (SDXL's config is SD's: leading, steps_offset 1)
    for sampler in EULER:
        for spacing, config in (("leading", SD), ("trailing", SD_TRAILING), ("linspace", SD_LINSPACE)):
            for pred, steps in (("epsilon", [1, 4, 20] if spacing == "leading" else [4, 10]),
                                ("v_prediction", [4, 10] if spacing == "leading" else [20])):
                for n in steps:
                    plan.append(("%s_sd_%s_%s_%d" % (sampler, spacing, pred, n), sampler, 0.0,
                                 with_(config, prediction_type=pred), n))
        plan.append(("%s_t500_epsilon_10" % sampler, sampler, 0.0, with_(SD, num_train_timesteps=500), 10))
        plan.append(("%s_cosine_epsilon_10" % sampler, sampler, 0.0, {"beta_schedule": "squaredcos_cap_v2"}, 10))
        plan.append(("%s_defaults_v_prediction_7" % sampler, sampler, 0.0, {"prediction_type": "v_prediction"}, 7))
    return plan


def trajectory_cases():
    cases = []
    for k, (name, sampler, eta, config, n) in enumerate(trajectory_plan()):
        a, b = MODELS[k % len(MODELS)]
        case = run_trajectory(sampler, config, n, eta, a, b, seed=1000 + k)
        case = dict([("name", name)] + list(case.items()))
        cases.append(case)
    return cases


def run_image_to_image(sampler, config, n, strength, masked, a, b, seed, shape=(1, 2, 2, 2), make=make_scheduler):
    """StableDiffusionImg2ImgPipeline's timesteps and noising, and StableDiffusionInpaintPipeline's blend for
    4-channel U-Nets: after each step, outside the mask (0) the latent becomes the original noised to the
    next timestep's level, the clean original after the last step."""
    size = int(np.prod(shape))
    rng = np.random.default_rng(seed)
    original = (0.5 * rng.standard_normal(size)).astype(np.float32)
    noise = rng.standard_normal(size).astype(np.float32)
    step_noise = rng.standard_normal((n, size)).astype(np.float32)
    mask = (rng.random(size) < 0.5).astype(np.float32) if masked else None
    sched = make(sampler, config)
    rule = None
    if sampler == "lcm":
        # LatentConsistencyModelImg2ImgPipeline: strength shortens the schedule inside set_timesteps
        rule = lcm_set_timesteps(sched, n, strength)
        t_start = 0
        timesteps = sched.timesteps
    else:
        sched.set_timesteps(n)
        # get_timesteps of the img2img pipeline (every scheduler here has order 1)
        init_timestep = min(int(n * strength), n)
        t_start = max(n - init_timestep, 0)
        timesteps = sched.timesteps[t_start:]
        if hasattr(sched, "set_begin_index"):
            sched.set_begin_index(t_start)
    x0 = torch.from_numpy(original.reshape(shape))
    eps = torch.from_numpy(noise.reshape(shape))
    m = None if mask is None else torch.from_numpy(mask.reshape(shape))
    if len(timesteps):
        sample = sched.add_noise(x0, eps, timesteps[:1])
    else:  # Stipple's rule when no timestep is left: the init latent as encoded
        sample = x0.clone()
    first = sample.reshape(-1).numpy().copy()
    samples = []
    for i, t in enumerate(timesteps):
        model_input = sched.scale_model_input(sample, t)
        model_output = model_fn(a, b, model_input, t)
        step_eps = torch.from_numpy(step_noise[i].reshape(shape))
        if sampler == "ddim":
            sample = sched.step(model_output, t, sample, eta=0.0, variance_noise=step_eps)
        elif sampler in ("euler_a", "lcm"):
            sample = sched.step(model_output, t, sample, step_eps)
        else:
            sample = sched.step(model_output, t, sample)
        if m is not None:
            proper = x0
            if i < len(timesteps) - 1:
                proper = sched.add_noise(x0, eps, timesteps[i + 1:i + 2])
            sample = (1 - m) * proper + m * sample
        samples.append(sample.reshape(-1).numpy().copy())
    case = {"sampler": sampler, "config": config, "steps": n, "strength": strength, "shape": list(shape),
            "model": {"a": a, "b": b}, "seed": seed, "begin_index": t_start,
            "original": [f32(v) for v in original], "noise": [f32(v) for v in noise],
            "step_noise": [[f32(v) for v in row] for row in step_noise[:len(timesteps)]],
            "timesteps": [f32(t) if sampler in FRACTIONAL_TIMESTEPS else int(t) for t in timesteps.numpy()],
            "noised": [f32(v) for v in first],
            "samples": [[f32(v) for v in row] for row in samples]}
    if mask is not None:
        case["mask"] = [f32(v) for v in mask]
    if rule:
        case["note"] = rule
    return case


EULER_IMAGE_TO_IMAGE = [(0.6, 10, False), (0.8, 20, False), (0.3, 4, False), (1.0, 5, False), (0.75, 8, True),
                        (1.0, 6, True)]


def euler_image_to_image_name(sampler, spacing, strength, n, masked):
    return "%s_%s_strength%g_%d%s" % (sampler, spacing, strength, n, "_masked" if masked else "")


def image_to_image_cases():
    cases = []
    k = 0
    for sampler in SAMPLERS:
        for strength, n, masked in ((0.6, 10, False), (0.8, 20, False), (0.3, 4, False), (1.0, 5, False),
                                    (0.75, 8, True), (1.0, 6, True)):
            a, b = MODELS[k % len(MODELS)]
            config = with_(SD, timestep_spacing="trailing", steps_offset=0) if k % 2 else SD
            case = run_image_to_image(sampler, config, n, strength, masked, a, b, seed=5000 + k)
            cases.append(dict([("name", "%s_strength%g_%d%s" % (sampler, strength, n, "_masked" if masked else ""))]
                              + list(case.items())))
            k += 1
    # LCM last, so that the cases before keep their seeds; the last two take Stipple's rule
    for strength, n, masked in ((0.5, 4, False), (0.8, 4, False), (1.0, 2, False), (0.3, 8, True),
                                (0.75, 2, True), (0.3, 20, False), (0.01, 4, False)):
        a, b = MODELS[k % len(MODELS)]
        config = LCM_ORIGINAL25 if k % 2 else LCM_SD
        case = run_image_to_image("lcm", config, n, strength, masked, a, b, seed=5000 + k)
        cases.append(dict([("name", "lcm_strength%g_%d%s" % (strength, n, "_masked" if masked else ""))]
                          + list(case.items())))
        k += 1
    for sampler in EULER:
        for j, (strength, n, masked) in enumerate(EULER_IMAGE_TO_IMAGE):
            a, b = MODELS[k % len(MODELS)]
            spacing, config = EULER_SPACINGS[j % len(EULER_SPACINGS)]
            case = run_image_to_image(sampler, config, n, strength, masked, a, b, seed=5000 + k)
            cases.append(dict([("name", euler_image_to_image_name(sampler, spacing, strength, n, masked))]
                              + list(case.items())))
            k += 1
    return cases


GENERAL_NOTES = [
    "Keys a scheduler class does not know are ignored (diffusers from_config behaviour): DPM-Solver and "
    "Euler-ancestral ignore set_alpha_to_one and clip_sample.",
    "torch.cumprod on a float32 CPU tensor accumulates in double and rounds each prefix product to float32 "
    "(alphas_cumprod[i] = (float) prod_{j<=i} (double) alphas[j]).",
    "torch.linspace(float32) on CPU is computed from both ends (i < n/2: start + step*i, else "
    "end - step*(n-1-i), with FMA) but its vectorized path adds j*step to a per-vector base, so some betas "
    "differ by 1 ulp between CPUs / builds (AVX2 vs AVX512) and from any scalar formula; alphas_cumprod "
    "then differ by up to ~3e-7 relative. Compare with a tolerance, not bitwise.",
    "DDIM step() always uses prev_timestep = t - num_train_timesteps // num_inference_steps, whatever the "
    "timestep_spacing; with trailing/linspace this is not the next scheduled timestep.",
    "DDIM 'linspace' and Euler-ancestral 'linspace' with 1 step give the single timestep 0.",
    "DPM-Solver 'leading' divides by (steps + 1) and drops the last entry: 1 step gives timestep "
    "500 + steps_offset, 4 steps start at 800 + steps_offset.",
    "With use_karras_sigmas the timesteps come from the Karras sigmas via _sigma_to_t (rounded, except "
    "for squaredcos_cap_v2 where they are truncated by the int64 cast); timestep_spacing and "
    "steps_offset then have no effect. Duplicated timesteps appear (e.g. [..., 1, 1, 0] for 50 steps, "
    "many 998s for squaredcos_cap_v2); the step counter, not the timestep, selects the sigma.",
    "index_for_timestep: when the FIRST timestep occurs more than once, diffusers starts at its second "
    "occurrence (DPM-Solver and Euler-ancestral); no case here triggers it.",
    "DPM-Solver++ 2M always takes a first-order step at the last step (final_sigmas_type zero) and at the "
    "first step; second-order everywhere else (lower_order_second only matters for solver_order 3).",
    "Euler-ancestral init_noise_sigma is max(sigmas) for linspace/trailing and sqrt(max(sigmas)^2 + 1) "
    "for leading, computed in float32 on the inference sigmas.",
    "LCM picks its timesteps from the distillation schedule (i + 1) * (num_train_timesteps // "
    "original_inference_steps) - 1, i < int(original_inference_steps * strength); image-to-image passes "
    "strength to set_timesteps, so a lower strength starts lower but still walks every requested step. "
    "Where set_timesteps raises because fewer timesteps than steps are left, the cases record Stipple's rule "
    "(walk every one left, none when none is) and say so in a note.",
    "LCM's c_skip and c_out are float32 (the int64 timestep tensor times the float timestep_scaling); the "
    "last step returns the denoised sample, so final_alpha_cumprod never enters.",
    "euler / euler_karras are diffusers v0.25.1's EulerDiscreteScheduler with s_churn 0: its timesteps and "
    "linearly interpolated sigmas are Euler-ancestral's, and so is init_noise_sigma (sqrt(max^2 + 1) for "
    "leading only). With use_karras_sigmas the Karras levels run between the spaced schedule's first and last "
    "sigma (so timestep_spacing and steps_offset still matter, unlike DPM-Solver's), and the timesteps are "
    "_sigma_to_t's fractional values, unrounded.",
    "EulerDiscreteScheduler v0.25.1 has no begin index: image-to-image finds the first step's sigma by its "
    "timestep (the second match if it repeats; its timesteps never repeat for 1..num_train_timesteps steps "
    "in these configs), add_noise by the timestep's only match. Its step draws a churn noise and, with s_churn "
    "0, never reads it; the cases record no draw.",
]

PROTOCOL = (
    "sample = initial_noise * init_noise_sigma (float32). For i, t in enumerate(timesteps): "
    "model_input = scale_model_input(sample, t) (identity except euler_a and euler*: sample / sqrt(sigma^2 + 1)); "
    "model_output = f32(a) * model_input + f32(b) * f32(sin(double(t) / 100.0)) in float32; "
    "sample = step(model_output, t, sample, noise = step_noise[i]) (ddim consumes noise only when eta > 0, "
    "euler_a at every step, lcm at every step but the last, dpmpp_2m* and euler* never); samples[i] = sample. "
    "Values are float32 printed with 9 "
    "significant digits; seeds are numpy default_rng(seed).standard_normal, initial_noise first, then "
    "step_noise row by row.")


class RealEuler:
    """diffusers' own EulerDiscreteScheduler behind the transcription's interface, remembering the step index it
    finds for the first step (its image-to-image begin index)."""

    def __init__(self, cls, config, karras):
        self.real = cls.from_config(dict(config, use_karras_sigmas=karras))
        self.first_step_index = None

    def set_timesteps(self, n):
        self.real.set_timesteps(n)

    @property
    def timesteps(self):
        return self.real.timesteps

    @property
    def sigmas(self):
        return self.real.sigmas

    @property
    def init_noise_sigma(self):
        return self.real.init_noise_sigma

    def scale_model_input(self, sample, t):
        scaled = self.real.scale_model_input(sample, t)
        if self.first_step_index is None:
            self.first_step_index = self.real.step_index
        return scaled

    def add_noise(self, original, noise, timesteps):
        return self.real.add_noise(original, noise, timesteps)

    def step(self, model_output, t, sample):
        return self.real.step(model_output, t, sample, return_dict=False)[0]


def check_diffusers(src):
    """Replays every Euler case through diffusers' real EulerDiscreteScheduler (imported from src with the stub
    modules of make_sd_reference.py) and through the transcription, and compares them value for value; checks
    too that the real class's timesteps never repeat, for every step count up to num_train_timesteps of every
    timestep config, and that its first image-to-image step starts at the pipeline's t_start. Returns the
    number of mismatches."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_sd_reference
    version = make_sd_reference.import_diffusers(src)[2]
    from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler
    made = []

    def real(sampler, config):
        made.append(RealEuler(EulerDiscreteScheduler, config, karras=sampler == "euler_karras"))
        return made[-1]

    mismatches = []

    def compare(what, ours, theirs):
        ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
        if ours.shape != theirs.shape or not np.array_equal(ours, theirs):
            diff = np.abs(ours - theirs).max() if ours.shape == theirs.shape else "shape"
            mismatches.append("%s: transcription %s, diffusers %s (max difference %s)"
                              % (what, np.array2string(ours, max_line_width=10 ** 6),
                                 np.array2string(theirs, max_line_width=10 ** 6), diff))

    counts = {"timestep": 0, "trajectory": 0, "image-to-image": 0}
    for sampler in EULER:
        for cname, config in TIMESTEP_CONFIGS:
            for n in STEPS:
                ours, theirs = make_scheduler(sampler, config), real(sampler, config)
                ours.set_timesteps(n)
                theirs.set_timesteps(n)
                what = "%s %s %d steps" % (sampler, cname, n)
                compare(what + " timesteps", ours.timesteps.numpy(), theirs.timesteps.numpy())
                compare(what + " sigmas", ours.sigmas.numpy(), theirs.sigmas.numpy())
                compare(what + " init_noise_sigma", float(ours.init_noise_sigma), float(theirs.init_noise_sigma))
                counts["timestep"] += 1
            sched = real(sampler, config)
            for n in range(1, sched.real.config.num_train_timesteps + 1):
                sched.set_timesteps(n)
                ts = sched.timesteps.numpy()
                if len(np.unique(ts)) != len(ts):
                    mismatches.append("%s %s %d steps: diffusers repeats a timestep: %s" % (sampler, cname, n, ts))
    for k, (name, sampler, eta, config, n) in enumerate(trajectory_plan()):
        if sampler in EULER:
            a, b = MODELS[k % len(MODELS)]
            ours = run_trajectory(sampler, config, n, eta, a, b, seed=1000 + k)
            theirs = run_trajectory(sampler, config, n, eta, a, b, seed=1000 + k, make=real)
            for key in ("timesteps", "init_noise_sigma", "samples"):
                compare("%s %s" % (name, key), ours[key], theirs[key])
            counts["trajectory"] += 1
    for k, case in enumerate(image_to_image_cases()):
        if case["sampler"] in EULER:
            args = (case["sampler"], case["config"], case["steps"], case["strength"], "mask" in case,
                    case["model"]["a"], case["model"]["b"], case["seed"])
            theirs = run_image_to_image(*args, make=real)
            for key in ("timesteps", "noised", "samples"):
                compare("%s %s" % (case["name"], key), case[key], theirs[key])
            if case["timesteps"]:
                compare(case["name"] + " first step index", case["begin_index"], made[-1].first_step_index)
            counts["image-to-image"] += 1
    print("diffusers %s EulerDiscreteScheduler against the transcription: %d timestep, %d trajectory and %d "
          "image-to-image cases, timesteps distinct for every step count: %s"
          % (version, counts["timestep"], counts["trajectory"], counts["image-to-image"],
             "all equal, value for value" if not mismatches else "%d MISMATCHES" % len(mismatches)))
    for line in mismatches:
        print("  " + line)
    return len(mismatches)


def main(argv):
    if len(argv) == 3 and argv[1] == "--check-diffusers":
        torch.set_num_threads(1)
        return 1 if check_diffusers(argv[2]) else 0
    out = argv[1] if len(argv) > 1 else DEFAULT_OUT
    torch.set_num_threads(1)
    doc = {
        "generated_by": "src/tools/reference/make_sampler_reference.py (torch %s, numpy %s); transcription of "
                        "diffusers DDIMScheduler, DPMSolverMultistepScheduler, EulerAncestralDiscreteScheduler, "
                        "LCMScheduler, EulerDiscreteScheduler (v0.25.1)"
                        % (torch.__version__, np.__version__),
        "protocol": PROTOCOL,
        "notes": GENERAL_NOTES,
        "class_defaults": {"ddim": DDIM_DEFAULTS, "dpmpp_2m": DPM_DEFAULTS,
                           "dpmpp_2m_karras": dict(DPM_DEFAULTS, use_karras_sigmas=True),
                           "euler_a": EULER_A_DEFAULTS, "lcm": LCM_DEFAULTS, "euler": EULER_DEFAULTS,
                           "euler_karras": dict(EULER_DEFAULTS, use_karras_sigmas=True)},
        "schedule_checks": schedule_checks(),
        "timestep_cases": timestep_cases(),
        "trajectory_cases": trajectory_cases(),
        "image_to_image_cases": image_to_image_cases(),
    }
    # -inf is not JSON
    for k in ("dpmpp_2m", "dpmpp_2m_karras"):
        doc["class_defaults"][k] = dict(doc["class_defaults"][k], lambda_min_clipped="-inf")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
        f.write("\n")
    n_notes = sum(1 for c in doc["timestep_cases"] if "note" in c)
    print("wrote %s: %d bytes, %d timestep cases (%d with notes), %d trajectory cases, %d image-to-image cases"
          % (out, len(text) + 1, len(doc["timestep_cases"]), n_notes, len(doc["trajectory_cases"]),
             len(doc["image_to_image_cases"])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
