package io.stipple.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** PNG bytes as pixels, failing the test when the bytes are not a PNG. */
public final class Png {
    private Png() {
    }

    public static BufferedImage decode(byte[] png) {
        try {
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(image, "not a PNG");
            return image;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The largest difference of one color channel at one pixel between two PNGs of the same size. */
    public static int maxChannelDifference(byte[] png, byte[] otherPng) {
        BufferedImage image = decode(png);
        BufferedImage other = decode(otherPng);
        assertEquals(image.getWidth(), other.getWidth());
        assertEquals(image.getHeight(), other.getHeight());
        int max = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                int otherRgb = other.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    max = Math.max(max, Math.abs((rgb >> shift & 0xff) - (otherRgb >> shift & 0xff)));
                }
            }
        }
        return max;
    }
}
