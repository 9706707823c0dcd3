package io.stipple.sampling;

import ai.djl.ndarray.NDArray;

/**
 * The forward process of a pipeline: ᾱ_t for every training timestep, and the noise level
 * σ_t = √((1 − ᾱ_t) / ᾱ_t) that the sigma-space samplers work in. ᾱ is rounded to float32 the way
 * diffusers stores it, so that every sampler starts from the numbers diffusers starts from.
 */
public final class NoiseSchedule {
    private static final double KARRAS_RHO = 7.0;

    private final float[] alphasCumprod;
    private final float[] sigmas;
    private final float[] logSigmas;

    public NoiseSchedule(SchedulerConfig config) {
        float[] betas = BetaSchedule.betas(config);
        alphasCumprod = new float[betas.length];
        sigmas = new float[betas.length];
        logSigmas = new float[betas.length];
        // torch.cumprod accumulates float32 inputs in double on the CPU and rounds each output.
        double product = 1.0;
        for (int t = 0; t < betas.length; t++) {
            product *= 1.0f - betas[t];
            alphasCumprod[t] = (float) product;
            float ac = alphasCumprod[t];
            sigmas[t] = (float) Math.sqrt((1.0f - ac) / ac);
            logSigmas[t] = (float) Math.log(sigmas[t]);
        }
    }

    public int trainTimesteps() {
        return alphasCumprod.length;
    }

    public double alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    /** The forward process q(x_t | x₀) at training timestep t: √ᾱ_t·x₀ + √(1 − ᾱ_t)·ε (diffusers' DDPM add_noise). */
    NDArray addNoise(NDArray original, NDArray noise, int t) {
        double alphaProd = alphasCumprod[t];
        return original.mul(Math.sqrt(alphaProd)).add(noise.mul(Math.sqrt(1 - alphaProd)));
    }

    /** σ at a possibly fractional timestep, interpolated linearly as numpy.interp does. */
    public double sigmaAt(double t) {
        if (t <= 0) {
            return sigmas[0];
        }
        int last = sigmas.length - 1;
        if (t >= last) {
            return sigmas[last];
        }
        int low = (int) Math.floor(t);
        return ((double) sigmas[low + 1] - sigmas[low]) * (t - low) + sigmas[low];
    }

    public double minSigma() {
        return sigmas[0];
    }

    public double maxSigma() {
        return sigmas[sigmas.length - 1];
    }

    /**
     * {@code steps} noise levels from {@code sigmaMax} down to {@code sigmaMin}, evenly spaced in σ^(1/ρ) with ρ = 7
     * (Karras et al. 2022, eq. 5; diffusers' _convert_to_karras, whose ramp is numpy.linspace(0, 1, steps)).
     */
    static double[] karrasSigmas(double sigmaMin, double sigmaMax, int steps) {
        double minInvRho = Math.pow(sigmaMin, 1 / KARRAS_RHO);
        double maxInvRho = Math.pow(sigmaMax, 1 / KARRAS_RHO);
        double[] levels = new double[steps];
        for (int i = 0; i < steps; i++) {
            double ramp = steps == 1 ? 0.0 : i == steps - 1 ? 1.0 : i * (1.0 / (steps - 1));
            levels[i] = Math.pow(maxInvRho + ramp * (minInvRho - maxInvRho), KARRAS_RHO);
        }
        return levels;
    }

    /**
     * The fractional timestep whose log σ interpolates to log {@code sigma} (diffusers' _sigma_to_t). The
     * comparison and the weight are float32, as numpy 1.x computes them from the float32 log σ table: a
     * weight computed in double lands a hair below an integer where float32 lands on it, which decides the
     * timestep wherever diffusers truncates it (Karras levels on the cosine schedule).
     */
    public double timestepForSigma(double sigma) {
        float logSigma = (float) Math.log(Math.max(sigma, 1e-10));
        int low = 0;
        for (int t = 0; t < logSigmas.length; t++) {
            if (logSigma - logSigmas[t] >= 0) {
                low = t;
            }
        }
        low = Math.min(low, logSigmas.length - 2);
        float lowLog = logSigmas[low];
        float highLog = logSigmas[low + 1];
        float w = Math.min(Math.max((lowLog - logSigma) / (lowLog - highLog), 0f), 1f);
        return (double) (1 - w) * low + (double) w * (low + 1);
    }
}
