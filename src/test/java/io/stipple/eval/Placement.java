package io.stipple.eval;

/**
 * Where a caption puts an object: the bounding-box center over the canvas, near an anchor, or
 * ANYWHERE when the caption has no position words (nothing to check).
 */
enum Placement {
    LEFT("on the left", 0.28, 0.5),
    RIGHT("on the right", 0.72, 0.5),
    TOP("at the top", 0.5, 0.28),
    BOTTOM("at the bottom", 0.5, 0.72),
    CENTER("in the center", 0.5, 0.5),
    ANYWHERE("", Double.NaN, Double.NaN);

    private final String phrase;
    private final double x;
    private final double y;

    Placement(String phrase, double x, double y) {
        this.phrase = phrase;
        this.x = x;
        this.y = y;
    }

    /** The caption's words, empty for ANYWHERE. */
    String phrase() {
        return phrase;
    }

    String label() {
        return name().toLowerCase();
    }

    /** The anchor nearest to a bounding-box center given as fractions of the canvas. */
    static Placement nearest(double centerX, double centerY) {
        Placement best = null;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (Placement placement : values()) {
            double distance = Math.hypot(centerX - placement.x, centerY - placement.y);
            if (distance < bestDistance) { // NaN (ANYWHERE) never compares less
                best = placement;
                bestDistance = distance;
            }
        }
        return best;
    }
}
