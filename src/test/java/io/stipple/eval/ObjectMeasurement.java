package io.stipple.eval;

import java.util.Arrays;
import java.util.Optional;

/** Measures one connected component of object pixels found by {@link ImageAnalysis}. */
final class ObjectMeasurement {
    private final ImageAnalysis image;
    private final int width;
    private final int height;
    private final int[] component;
    private final boolean[] member;

    private ObjectMeasurement(ImageAnalysis image, int[] component) {
        this.image = image;
        this.width = image.width();
        this.height = image.height();
        this.component = component;
        this.member = new boolean[width * height];
        for (int i : component) {
            member[i] = true;
        }
    }

    /**
     * The object of a component whose pixels lie in columns [fromX, toX); empty when its pixels cannot
     * be told from the background's.
     */
    static Optional<FoundObject> measure(ImageAnalysis image, int[] component, int fromX, int toX) {
        return new ObjectMeasurement(image, component).measure(fromX, toX);
    }

    private Optional<FoundObject> measure(int fromX, int toX) {
        double[] color = interiorMedian();
        double[] background = image.background();
        double contrast = Rgb.distanceSquared(color, background);
        if (contrast == 0) {
            return Optional.empty();
        }
        // Coverage of each pixel in or next to the component: where it lies between the background
        // and the object color. The one-pixel ring takes in the faint antialiased edge.
        double[] rowMass = new double[height];
        double[] columnMass = new double[width];
        for (int y = 0; y < height; y++) {
            for (int x = fromX; x < toX; x++) {
                if (nearComponent(x, y)) {
                    double[] pixel = image.pixel(x, y);
                    double projection = 0;
                    for (int c = 0; c < 3; c++) {
                        projection += (pixel[c] - background[c]) * (color[c] - background[c]);
                    }
                    double coverage = Math.min(Math.max(projection / contrast, 0), 1);
                    rowMass[y] += coverage;
                    columnMass[x] += coverage;
                }
            }
        }
        double mass = Arrays.stream(rowMass).sum();
        if (mass == 0) {
            return Optional.empty();
        }
        double widest = Arrays.stream(rowMass).max().orElseThrow();
        double tallest = Arrays.stream(columnMass).max().orElseThrow();
        ShapeFeatures features = new ShapeFeatures(mass / (widest * tallest), skewness(columnMass, mass),
                skewness(rowMass, mass), Math.min(widest, tallest) / Math.max(widest, tallest));
        // A known shape's area gives its side exactly however blurred its edges are; the widest row
        // and the tallest column fall short on blurred triangle tips.
        double side = features.shape().map(shape -> Math.sqrt(mass / shape.fill())).orElse(Math.max(widest, tallest));
        return Optional.of(new FoundObject(color, features, side / width, boxCenter(true) / width,
                boxCenter(false) / height));
    }

    private boolean isMember(int x, int y) {
        return x >= 0 && y >= 0 && x < width && y < height && member[y * width + x];
    }

    private boolean nearComponent(int x, int y) {
        for (int dy = -1; dy <= 1; dy++) {
            for (int dx = -1; dx <= 1; dx++) {
                if (isMember(x + dx, y + dy)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Median color of the pixels whose four neighbours are in the component too: edges are mixed. */
    private double[] interiorMedian() {
        int[] interior = Arrays.stream(component).filter(i -> {
            int x = i % width;
            int y = i / width;
            return isMember(x - 1, y) && isMember(x + 1, y) && isMember(x, y - 1) && isMember(x, y + 1);
        }).toArray();
        int[] chosen = interior.length > 0 ? interior : component;
        double[] median = new double[3];
        for (int c = 0; c < 3; c++) {
            int channel = c;
            double[] values = Arrays.stream(chosen).mapToDouble(i -> image.pixel(i % width, i / width)[channel])
                    .sorted().toArray();
            median[c] = values[values.length / 2];
        }
        return median;
    }

    /** Center of the component's bounding box along x or y, in pixels. */
    private double boxCenter(boolean alongX) {
        int min = Integer.MAX_VALUE;
        int max = Integer.MIN_VALUE;
        for (int i : component) {
            int coordinate = alongX ? i % width : i / width;
            min = Math.min(min, coordinate);
            max = Math.max(max, coordinate);
        }
        return (min + max + 1) / 2.0;
    }

    /** Skewness of a mass profile over pixel centers. */
    private static double skewness(double[] profile, double mass) {
        double mean = 0;
        for (int i = 0; i < profile.length; i++) {
            mean += profile[i] * (i + 0.5) / mass;
        }
        double second = 0;
        double third = 0;
        for (int i = 0; i < profile.length; i++) {
            double d = i + 0.5 - mean;
            second += profile[i] * d * d / mass;
            third += profile[i] * d * d * d / mass;
        }
        return third / Math.pow(second, 1.5);
    }
}
