package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.TorchScriptModule;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/** Latents → RGB images: {@code vae_decoder(latents / scaling_factor)}, then [-1, 1] → round(255·clamp(x/2 + ½)). */
public final class ImageDecoder {
    private final TorchScriptModule vaeDecoder;
    private final double scalingFactor;

    public ImageDecoder(TorchScriptModule vaeDecoder, double scalingFactor) {
        this.vaeDecoder = vaeDecoder;
        this.scalingFactor = scalingFactor;
    }

    /** Decodes latents of one shape in one VAE call. */
    public List<BufferedImage> decode(List<NDArray> latents) {
        try (NDScope scope = new NDScope()) {
            NDArray batch = NDArrays.concat(new NDList(latents)).div(scalingFactor);
            NDArray decoded = vaeDecoder.forward(new NDList(batch)).head();
            NDArray pixels = decoded.div(2).add(0.5).clip(0, 1).mul(255).round().toType(DataType.UINT8, false);
            Shape shape = pixels.getShape();
            int height = Math.toIntExact(shape.get(2));
            int width = Math.toIntExact(shape.get(3));
            byte[] bytes = pixels.toByteArray();
            List<BufferedImage> images = new ArrayList<>();
            for (int n = 0; n < shape.get(0); n++) {
                images.add(toImage(bytes, n, width, height));
            }
            scope.suppressNotUsedWarning();
            return images;
        }
    }

    private static BufferedImage toImage(byte[] chw, int index, int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int plane = width * height;
        int base = index * 3 * plane;
        int[] rgb = new int[plane];
        for (int p = 0; p < plane; p++) {
            int r = chw[base + p] & 0xff;
            int g = chw[base + plane + p] & 0xff;
            int b = chw[base + 2 * plane + p] & 0xff;
            rgb[p] = (r << 16) | (g << 8) | b;
        }
        image.setRGB(0, 0, width, height, rgb, 0, width);
        return image;
    }
}
