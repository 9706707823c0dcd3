package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.PipelineSpec;
import java.awt.image.BufferedImage;

/**
 * Where a request's images start, in latent space, beyond pure noise; shared by the images of one request.
 *
 * @param latent           the init image's latent x₀, to noise to the first walked step; null to start from noise
 * @param blendMask        for inpainting with an ordinary U-Net, the mask at latent resolution (1: repaint, 0:
 *                         keep), for the per-step blend; else null
 * @param unetConditioning for an inpainting U-Net, the channels it takes beside the latent: the mask and the
 *                         masked image's latent, [1, C + 1, h, w], as diffusers' inpaint pipeline concatenates
 *                         them; else null
 */
public record ImageStart(NDArray latent, NDArray blendMask, NDArray unetConditioning) {

    /** What {@code request} starts from on this model, or null for text-to-image on an ordinary U-Net. */
    public static ImageStart of(GenerationRequest request, PipelineSpec spec, ImageEncoder encoder, NDManager manager) {
        InitImage init = request.init();
        int factor = spec.vaeScaleFactor();
        if (!spec.inpaintingUnet()) {
            return init == null ? null : new ImageStart(encoder.encode(manager, init.image()),
                    init.inpainting() ? latentMask(manager, init.mask(), factor) : null, null);
        }
        Shape latentShape = new Shape(1, 1, request.height() / factor, request.width() / factor);
        NDArray mask = init != null && init.inpainting() ? latentMask(manager, init.mask(), factor)
                : manager.ones(latentShape, DataType.FLOAT32);
        NDArray masked = init == null ? encoder.encodeBlank(manager, request.width(), request.height())
                : init.inpainting() ? encoder.encodeMasked(manager, init.image(), init.mask())
                : encoder.encodeBlank(manager, request.width(), request.height());
        NDArray conditioning = NDArrays.concat(new NDList(mask, masked), 1);
        // diffusers' inpaint pipeline starts from pure noise at strength 1, from the noised image below it.
        NDArray latent = init == null || init.strength() >= 1 ? null : encoder.encode(manager, init.image());
        return new ImageStart(latent, null, conditioning);
    }

    /**
     * The mask binarised and resized to the latent's size as diffusers' inpaint pipeline does it: torch's
     * nearest-neighbour {@code interpolate} takes each latent cell's top-left pixel.
     */
    static NDArray latentMask(NDManager manager, BufferedImage mask, int factor) {
        int width = mask.getWidth() / factor;
        int height = mask.getHeight() / factor;
        float[] cells = new float[width * height];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = mask.getRGB(x * factor, y * factor);
                cells[y * width + x] = MaskLevels.repaint(rgb) ? 1f : 0f;
            }
        }
        return manager.create(cells, new Shape(1, 1, height, width));
    }
}
