package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.awt.image.BufferedImage;

/**
 * Where an image-to-image walk starts, in latent space: the init image's latent x₀ and, for inpainting,
 * the mask at latent resolution (1: repaint, 0: keep). Shared by the images of one request.
 */
public record ImageStart(NDArray latent, NDArray mask) {

    /** Encodes the init image and samples its mask at latent resolution, into {@code manager}. */
    public static ImageStart of(InitImage init, ImageEncoder encoder, NDManager manager, int vaeScaleFactor) {
        NDArray latent = encoder.encode(manager, init.image());
        NDArray mask = init.inpainting() ? latentMask(manager, init.mask(), vaeScaleFactor) : null;
        return new ImageStart(latent, mask);
    }

    /**
     * The mask binarised and sampled at the centre of each latent cell, as diffusers' inpaint pipeline
     * binarises it and resizes it to the latent's size (nearest neighbour).
     */
    static NDArray latentMask(NDManager manager, BufferedImage mask, int factor) {
        int width = mask.getWidth() / factor;
        int height = mask.getHeight() / factor;
        float[] cells = new float[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = mask.getRGB(x * factor + factor / 2, y * factor + factor / 2);
                cells[y * width + x] = MaskLevels.repaint(rgb) ? 1f : 0f;
            }
        }
        return manager.create(cells, new Shape(1, 1, height, width));
    }
}
