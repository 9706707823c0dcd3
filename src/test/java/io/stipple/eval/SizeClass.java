package io.stipple.eval;

/** Bounding-box side over the canvas width; a caption without a size word means MEDIUM. */
enum SizeClass {
    SMALL("small"),
    MEDIUM(""),
    LARGE("large");

    // halfway between the dataset's ranges: small 0.20-0.28, medium 0.34-0.46, large 0.55-0.70
    private static final double SMALL_BELOW = 0.31;
    private static final double LARGE_ABOVE = 0.505;

    private final String word;

    SizeClass(String word) {
        this.word = word;
    }

    /** The caption's word, empty for MEDIUM. */
    String word() {
        return word;
    }

    String label() {
        return name().toLowerCase();
    }

    static SizeClass of(double sideOverWidth) {
        if (sideOverWidth < SMALL_BELOW) {
            return SMALL;
        }
        return sideOverWidth > LARGE_ABOVE ? LARGE : MEDIUM;
    }
}
