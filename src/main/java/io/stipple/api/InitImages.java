package io.stipple.api;

import io.stipple.api.InvalidRequestException.FieldViolation;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Images that requests carry ({@code init_image}, {@code mask_image}): base64 PNG or JPEG, bare or as a
 * data URL. Each is checked before it is decoded, so that a small file that claims to be huge (a
 * decompression bomb) is refused from its header.
 */
public final class InitImages {
    /** Larger images are refused before decoding: 4096 × 4096, four times the default pixel budget's side. */
    static final long MAX_DECODED_PIXELS = 4096L * 4096L;
    private static final Pattern DATA_URL = Pattern.compile("^data:([^;,]*)(;base64)?,", Pattern.CASE_INSENSITIVE);
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");
    private static final Set<String> FORMATS = Set.of("png", "jpeg");

    private InitImages() {
    }

    /** The decoded image, or null after adding a violation that says what is wrong with it. */
    public static BufferedImage decode(String field, String encoded, List<FieldViolation> violations) {
        String base64 = encoded.strip();
        Matcher dataUrl = DATA_URL.matcher(base64);
        if (dataUrl.find()) {
            if (dataUrl.group(2) == null) {
                violations.add(new FieldViolation(field, field + " is a data URL without ;base64"));
                return null;
            }
            base64 = base64.substring(dataUrl.end());
        }
        byte[] bytes;
        try {
            // Line breaks are common in base64 that tools wrap; anything else outside the alphabet is an error.
            bytes = Base64.getDecoder().decode(WHITESPACE.matcher(base64).replaceAll(""));
        } catch (IllegalArgumentException e) {
            violations.add(new FieldViolation(field, field + " is not valid base64: " + e.getMessage()));
            return null;
        }
        return decode(field, bytes, violations);
    }

    /** The decoded image of an uploaded file's bytes, or null after adding a violation that says what is wrong. */
    public static BufferedImage decode(String field, byte[] bytes, List<FieldViolation> violations) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            ImageReader reader = readers.hasNext() ? readers.next() : null;
            String format = reader == null ? null : reader.getFormatName().toLowerCase(Locale.ROOT);
            if (format == null || !FORMATS.contains(format)) {
                violations.add(new FieldViolation(field, field + " must be a PNG or JPEG image"
                        + (format == null ? "" : ", got " + format.toUpperCase(Locale.ROOT))));
                return null;
            }
            try {
                reader.setInput(in, true, true);
                long pixels = (long) reader.getWidth(0) * reader.getHeight(0);
                if (pixels > MAX_DECODED_PIXELS) {
                    violations.add(new FieldViolation(field, field + " is " + reader.getWidth(0) + " × "
                            + reader.getHeight(0) + " pixels; at most " + MAX_DECODED_PIXELS + " pixels are accepted"));
                    return null;
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            violations.add(new FieldViolation(field, field + " could not be decoded as an image: " + e.getMessage()));
            return null;
        }
    }

    /** {@code image} scaled (bicubic) to exactly {@code width} × {@code height}, as opaque RGB. */
    static BufferedImage resize(BufferedImage image, int width, int height) {
        BufferedImage resized = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = resized.createGraphics();
        try {
            graphics.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
            graphics.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
            graphics.drawImage(image, 0, 0, width, height, java.awt.Color.WHITE, null);
        } finally {
            graphics.dispose();
        }
        return resized;
    }
}
