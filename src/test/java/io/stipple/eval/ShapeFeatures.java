package io.stipple.eval;

import java.util.Optional;

/**
 * Blur-tolerant descriptors of an object's coverage mass (coverage in 0..1 per pixel).
 *
 * @param fill   mass over (widest row sum × tallest column sum): circle π/4, square 1, triangle 1/2
 * @param skewX  skewness of the mass along x: 0 for every shape of the dataset (left-right symmetric)
 * @param skewY  skewness along y, downwards: 0 for circles and squares, −0.566 for an apex-up triangle
 * @param aspect the smaller of widest row sum and tallest column sum over the larger: 1 for all shapes
 */
record ShapeFeatures(double fill, double skewX, double skewY, double aspect) {
    /** Skewness of the height of a triangle whose width grows linearly downwards: −(2√2)/5. */
    static final double TRIANGLE_SKEW = -2 * Math.sqrt(2) / 5;

    // Halfway between the prototypes; skewness is kept by a symmetric blur (only scaled down by the
    // added variance), so it tells triangles apart where blur has pushed their fill towards a circle's.
    private static final double SKEW_LIMIT = -TRIANGLE_SKEW / 2;
    private static final double SQUARE_FILL = (ShapeKind.CIRCLE.fill() + ShapeKind.SQUARE.fill()) / 2;
    private static final double CIRCLE_MIN_FILL = 2 * ShapeKind.CIRCLE.fill() - SQUARE_FILL;
    // a diagonal stroke has a tiny widest row and tallest column, hence a fill far above 1
    private static final double SQUARE_MAX_FILL = 1.15;
    private static final double MIN_ASPECT = 0.75;

    /** The shape these features fit, or empty for none (an ellipse, a ring, a rotated or flipped shape). */
    Optional<ShapeKind> shape() {
        if (aspect < MIN_ASPECT || Math.abs(skewX) > SKEW_LIMIT || skewY > SKEW_LIMIT) {
            return Optional.empty();
        }
        if (skewY < -SKEW_LIMIT) {
            return fill < SQUARE_FILL ? Optional.of(ShapeKind.TRIANGLE) : Optional.empty();
        }
        if (fill >= SQUARE_FILL) {
            return fill <= SQUARE_MAX_FILL ? Optional.of(ShapeKind.SQUARE) : Optional.empty();
        }
        return fill >= CIRCLE_MIN_FILL ? Optional.of(ShapeKind.CIRCLE) : Optional.empty();
    }
}
