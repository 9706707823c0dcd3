package io.stipple.eval;

import java.util.Optional;

/**
 * An object as the image shows it.
 *
 * @param rgb      median color of its interior
 * @param side     estimated bounding-box side over the canvas width
 * @param centerX  bounding-box center over the canvas width
 * @param centerY  bounding-box center over the canvas height
 */
record FoundObject(double[] rgb, ShapeFeatures features, double side, double centerX, double centerY) {
    PaletteColor color() {
        return PaletteColor.nearest(rgb);
    }

    Optional<ShapeKind> shape() {
        return features.shape();
    }

    SizeClass size() {
        return SizeClass.of(side);
    }

    Placement placement() {
        return Placement.nearest(centerX, centerY);
    }
}
