package io.stipple.pipeline;

import java.awt.image.BufferedImage;

/**
 * What image-to-image starts from: an image at the request's size, how much of the way back to noise it
 * goes ({@code strength}, 0 to 1), and for inpainting a mask at the same size whose white marks what to
 * repaint (grey levels are read as white from one half up).
 */
public record InitImage(BufferedImage image, double strength, BufferedImage mask) {

    public boolean inpainting() {
        return mask != null;
    }
}
