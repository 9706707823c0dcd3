package io.stipple.model;

import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.annotation.JsonProperty;

/** {@code pipeline.json}: what the Java side must know about a pipeline's tensors and its defaults. */
public record PipelineSpec(
        @JsonProperty("format") String format,
        @JsonProperty("name") String name,
        @JsonProperty("description") String description,
        @JsonProperty("latent_channels") Integer latentChannels,
        @JsonProperty("unet_in_channels") Integer unetInChannels,
        @JsonProperty("vae_scale_factor") Integer vaeScaleFactor,
        @JsonProperty("scaling_factor") Double scalingFactor,
        @JsonProperty("size_multiple") Integer sizeMultiple,
        @JsonProperty("text_max_length") Integer textMaxLength,
        @JsonProperty("pad_token_id") Integer padTokenId,
        @JsonProperty("default_width") Integer defaultWidth,
        @JsonProperty("default_height") Integer defaultHeight,
        @JsonProperty("default_steps") Integer defaultSteps,
        @JsonProperty("default_guidance_scale") Double defaultGuidanceScale,
        @JsonProperty("default_sampler") String defaultSampler,
        @JsonProperty("time_cond_proj_dim") Integer timeCondProjDim,
        @JsonProperty("pad_token_id_2") Integer padTokenId2,
        @JsonProperty("addition_embed_type") String additionEmbedType,
        @JsonProperty("force_zeros_for_empty_prompt") Boolean forceZerosForEmptyPrompt,
        @JsonProperty("max_clip_skip") Integer maxClipSkip) {

    public static final String FORMAT = "stipple-pipeline/1";
    /** diffusers' name for SDXL's added conditions: pooled text embeddings and six time ids. */
    public static final String TEXT_TIME = "text_time";

    /**
     * What request widths and heights must be multiples of: {@code size_multiple} where the U-Net needs more
     * than the VAE (a Stable Diffusion U-Net halves the latent three times, so images come in multiples of
     * 8 × 8 = 64), else {@code vae_scale_factor}.
     */
    public int sizeMultipleOrDefault() {
        return sizeMultiple == null ? vaeScaleFactor : sizeMultiple;
    }

    /**
     * A small valid image side for the checks at start-up: enough for 8 latent pixels (a U-Net that halves
     * its input three times still has one), a multiple of the size multiple, never above the default size.
     * Checking at the default size would cost a full-size model minutes and gigabytes before the first request.
     */
    public int probeSide() {
        int multiple = sizeMultipleOrDefault();
        int side = (8 * vaeScaleFactor + multiple - 1) / multiple * multiple;
        return Math.min(side, Math.min(defaultWidth, defaultHeight));
    }

    /** The shape of {@code rows} latents of a {@code width} × {@code height} image: [rows, C, H/f, W/f]. */
    public Shape latentShape(int rows, int width, int height) {
        return new Shape(rows, latentChannels, height / vaeScaleFactor, width / vaeScaleFactor);
    }

    /** The defaults diffusers' Stable Diffusion pipeline uses where {@code pipeline.json} names none. */
    public int stepsOrDefault() {
        return defaultSteps == null ? 50 : defaultSteps;
    }

    public double guidanceScaleOrDefault() {
        return defaultGuidanceScale == null ? 7.5 : defaultGuidanceScale;
    }

    public String samplerOrDefault() {
        return defaultSampler == null ? "dpmpp_2m" : defaultSampler;
    }

    /**
     * Whether the U-Net is an inpainting U-Net (Stable Diffusion inpainting checkpoints): it takes, beside the
     * latent, the mask and the masked image's latent, {@code 2C + 1} channels in all.
     */
    public boolean inpaintingUnet() {
        return unetInChannels != null && latentChannels != null && unetInChannels == 2 * latentChannels + 1;
    }

    /**
     * Whether the U-Net embeds the guidance scale (a latent consistency model): it takes a fourth input,
     * {@code timestep_cond} [B, time_cond_proj_dim], instead of being run twice for classifier-free guidance.
     */
    public boolean guidanceEmbedded() {
        return timeCondProjDim != null;
    }

    /** Whether the pipeline has a second tokenizer and text encoder (SDXL): {@code pad_token_id_2} says so. */
    public boolean twoTextEncoders() {
        return padTokenId2 != null;
    }

    /**
     * Whether the U-Net takes SDXL's added conditions after the hidden states: the pooled text embeddings
     * {@code text_embeds} [B, P] and {@code time_ids} [B, 6].
     */
    public boolean textTimeConditioning() {
        return TEXT_TIME.equals(additionEmbedType);
    }

    /** Whether a request without a negative prompt gets all-zero negative conditioning (diffusers' SDXL rule). */
    public boolean zeroesMissingNegativePrompt() {
        return Boolean.TRUE.equals(forceZerosForEmptyPrompt);
    }

    /** The most layers a request may skip back from the text encoders' usual output; 0 where they cannot. */
    public int maxClipSkipOrDefault() {
        return maxClipSkip == null ? 0 : maxClipSkip;
    }

    /** Channels of the U-Net's sample input: {@code unet_in_channels}, else the latent's. */
    public int unetInChannelsOrDefault() {
        return unetInChannels == null ? latentChannels : unetInChannels;
    }

    /** Lists every missing or out-of-range field, so one edit fixes the file. */
    void validate() {
        StringBuilder problems = new StringBuilder();
        if (!FORMAT.equals(format)) {
            problems.append("; format must be \"").append(FORMAT).append("\", got ").append(quoted(format));
        }
        requireText(problems, "name", name);
        requirePositive(problems, "latent_channels", latentChannels);
        if (unetInChannels != null && latentChannels != null
                && unetInChannels != latentChannels.intValue() && unetInChannels != 2 * latentChannels + 1) {
            problems.append("; unet_in_channels must be latent_channels (").append(latentChannels)
                    .append(") or, for an inpainting U-Net, 2 × latent_channels + 1 (").append(2 * latentChannels + 1)
                    .append("), got ").append(unetInChannels);
        }
        requirePositive(problems, "vae_scale_factor", vaeScaleFactor);
        if (scalingFactor == null || !(scalingFactor > 0) || scalingFactor.isInfinite()) {
            problems.append("; scaling_factor must be a positive number, got ").append(scalingFactor);
        }
        requirePositive(problems, "text_max_length", textMaxLength);
        if (padTokenId == null || padTokenId < 0) {
            problems.append("; pad_token_id must be a non-negative integer, got ").append(padTokenId);
        }
        requirePositive(problems, "default_width", defaultWidth);
        requirePositive(problems, "default_height", defaultHeight);
        if (vaeScaleFactor != null && vaeScaleFactor > 0) {
            if (sizeMultiple != null && (sizeMultiple < 1 || sizeMultiple % vaeScaleFactor != 0)) {
                problems.append("; size_multiple must be a positive multiple of vae_scale_factor ").append(vaeScaleFactor)
                        .append(", got ").append(sizeMultiple);
            } else {
                requireMultiple(problems, "default_width", defaultWidth, sizeMultipleOrDefault());
                requireMultiple(problems, "default_height", defaultHeight, sizeMultipleOrDefault());
            }
        }
        if (padTokenId2 != null && padTokenId2 < 0) {
            problems.append("; pad_token_id_2 must be a non-negative integer, got ").append(padTokenId2);
        }
        if (additionEmbedType != null && !(TEXT_TIME.equals(additionEmbedType) && padTokenId2 != null)) {
            problems.append("; addition_embed_type must be \"" + TEXT_TIME + "\" with a second text encoder "
                    + "(pad_token_id_2), got ").append(quoted(additionEmbedType));
        }
        if (maxClipSkip != null && maxClipSkip < 0) {
            problems.append("; max_clip_skip must be at least 0, got ").append(maxClipSkip);
        }
        if (timeCondProjDim != null && timeCondProjDim < 4) {
            problems.append("; time_cond_proj_dim must be at least 4, got ").append(timeCondProjDim);
        }
        if (defaultSteps != null && defaultSteps < 1) {
            problems.append("; default_steps must be at least 1, got ").append(defaultSteps);
        }
        if (defaultGuidanceScale != null && !(defaultGuidanceScale >= 0)) {
            problems.append("; default_guidance_scale must be at least 0, got ").append(defaultGuidanceScale);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(problems.substring(2));
        }
    }

    private static void requireText(StringBuilder problems, String field, String value) {
        if (value == null || value.isBlank()) {
            problems.append("; ").append(field).append(" is required");
        }
    }

    private static void requirePositive(StringBuilder problems, String field, Integer value) {
        if (value == null || value < 1) {
            problems.append("; ").append(field).append(" must be a positive integer, got ").append(value);
        }
    }

    private void requireMultiple(StringBuilder problems, String field, Integer value, int multiple) {
        if (value != null && value > 0 && value % multiple != 0) {
            problems.append("; ").append(field).append(" must be a multiple of ")
                    .append(sizeMultiple == null ? "vae_scale_factor " : "size_multiple ")
                    .append(multiple).append(", got ").append(value);
        }
    }

    private static String quoted(String value) {
        return value == null ? "nothing" : "\"" + value + "\"";
    }
}
