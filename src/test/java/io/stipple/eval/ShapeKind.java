package io.stipple.eval;

/** The dataset's shapes; fill is the shape's area over its bounding box's. */
enum ShapeKind {
    CIRCLE(Math.PI / 4),
    SQUARE(1),
    /** Isosceles, apex up, base = height = the bounding box's side. */
    TRIANGLE(0.5);

    private final double fill;

    ShapeKind(double fill) {
        this.fill = fill;
    }

    double fill() {
        return fill;
    }

    String word() {
        return name().toLowerCase();
    }
}
