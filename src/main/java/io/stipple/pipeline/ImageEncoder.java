package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.TorchScriptModule;
import java.awt.image.BufferedImage;

/**
 * RGB image → latent: {@code vae_encoder((pixels / 255) · 2 − 1) · scaling_factor}, the inverse of
 * {@link ImageDecoder}. The encoder gives the mean of the latent distribution (diffusers' "argmax" mode),
 * so the same image always has the same latent.
 */
public final class ImageEncoder {
    private final TorchScriptModule vaeEncoder;
    private final double scalingFactor;

    public ImageEncoder(TorchScriptModule vaeEncoder, double scalingFactor) {
        this.vaeEncoder = vaeEncoder;
        this.scalingFactor = scalingFactor;
    }

    /** The latent [1, C, H/f, W/f] of {@code image}, owned by {@code manager}. */
    public NDArray encode(NDManager manager, BufferedImage image) {
        return encode(manager, pixels(image, null), image.getWidth(), image.getHeight());
    }

    /**
     * The latent of the image with what the mask repaints blanked out (0, mid-grey, in the VAE's [-1, 1]), as
     * diffusers' inpaint pipeline gives an inpainting U-Net: {@code image * (mask < 0.5)}.
     */
    public NDArray encodeMasked(NDManager manager, BufferedImage image, BufferedImage mask) {
        return encode(manager, pixels(image, mask), image.getWidth(), image.getHeight());
    }

    /** The latent of an all mid-grey image: what an inpainting U-Net is given when nothing is to be kept. */
    public NDArray encodeBlank(NDManager manager, int width, int height) {
        return encode(manager, new float[3 * width * height], width, height);
    }

    private static float[] pixels(BufferedImage image, BufferedImage mask) {
        int width = image.getWidth();
        int height = image.getHeight();
        int plane = width * height;
        int[] rgb = image.getRGB(0, 0, width, height, null, 0, width);
        int[] masked = mask == null ? null : mask.getRGB(0, 0, width, height, null, 0, width);
        float[] chw = new float[3 * plane];
        for (int p = 0; p < plane; p++) {
            if (masked != null && MaskLevels.repaint(masked[p])) {
                continue;
            }
            chw[p] = ((rgb[p] >> 16) & 0xff) / 127.5f - 1f;
            chw[plane + p] = ((rgb[p] >> 8) & 0xff) / 127.5f - 1f;
            chw[2 * plane + p] = (rgb[p] & 0xff) / 127.5f - 1f;
        }
        return chw;
    }

    private NDArray encode(NDManager manager, float[] chw, int width, int height) {
        try (NDManager scope = manager.newSubManager()) {
            NDArray pixels = scope.create(chw, new Shape(1, 3, height, width));
            NDArray latent = vaeEncoder.forward(new NDList(pixels)).head().mul(scalingFactor);
            latent.attach(manager);
            return latent;
        }
    }
}
