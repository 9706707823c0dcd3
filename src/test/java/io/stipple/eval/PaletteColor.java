package io.stipple.eval;

/** The nine colors of the captioned-shapes dataset (src/training/shapes.py), in sRGB. */
enum PaletteColor {
    RED(215, 30, 30),
    ORANGE(245, 130, 20),
    YELLOW(250, 230, 50),
    GREEN(30, 160, 60),
    BLUE(30, 70, 210),
    PURPLE(130, 50, 170),
    WHITE(245, 245, 245),
    BLACK(20, 20, 20),
    GRAY(128, 128, 128);

    private final double[] rgb;

    PaletteColor(int red, int green, int blue) {
        this.rgb = new double[] {red, green, blue};
    }

    String word() {
        return name().toLowerCase();
    }

    /** The color as a packed 0xRRGGBB int, as {@link java.awt.Color} and {@code BufferedImage} take it. */
    int packed() {
        return (int) rgb[0] << 16 | (int) rgb[1] << 8 | (int) rgb[2];
    }

    /**
     * Plain RGB distance suffices: the closest pair (purple, gray) is 89 apart, far more than the
     * dataset's color jitter (at most 17) and than the casts a decoder adds.
     */
    static PaletteColor nearest(double[] rgb) {
        PaletteColor best = null;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (PaletteColor color : values()) {
            double distance = Rgb.distanceSquared(color.rgb, rgb);
            if (distance < bestDistance) {
                best = color;
                bestDistance = distance;
            }
        }
        return best;
    }
}
