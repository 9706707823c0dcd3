package io.stipple.pipeline;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** PNG bytes of an image; deterministic, so the same pixels always give the same file. */
public final class PngEncoder {
    static {
        // By default ImageIO writes every stream through a temporary file, whose shutdown hook makes encoding
        // throw during JVM shutdown, exactly when the last requests are being answered. PNGs are small: memory.
        ImageIO.setUseCache(false);
    }

    private PngEncoder() {
    }

    public static byte[] encode(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
