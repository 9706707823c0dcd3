package io.stipple.eval;

import java.awt.image.BufferedImage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Finds the background color and the objects of a flat-background image.
 *
 * <p>Object pixels are those of a 3×3-median-filtered copy far from the background color: the median
 * removes speckle noise before it can join or inflate an object. Measurements then use the unfiltered
 * pixels as coverage between the background and the object color, so that antialiasing and blur,
 * which move coverage around without changing its total, barely change them.
 */
final class ImageAnalysis {
    /** Color distance from the background beyond which a pixel belongs to an object: below the
     *  closest palette pair after the worst jitter (89 − 2 × 17), above median-filtered noise. */
    private static final double OBJECT_DISTANCE = 40;
    /** Border pixels this close to each other count as one color when finding the background. */
    private static final double SAME_COLOR = 30;
    /** Components smaller than this fraction of the image are noise (the smallest shape is 2%). */
    private static final double MIN_OBJECT_AREA = 0.004;

    private final int width;
    private final int height;
    private final double[][] pixels;
    private final double[] background;
    private final boolean[] objectPixel;

    ImageAnalysis(BufferedImage image) {
        width = image.getWidth();
        height = image.getHeight();
        pixels = new double[width * height][];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                pixels[y * width + x] = Rgb.of(image.getRGB(x, y));
            }
        }
        background = dominantBorderColor();
        double[][] filtered = medianFiltered();
        objectPixel = new boolean[pixels.length];
        for (int i = 0; i < pixels.length; i++) {
            objectPixel[i] = Rgb.distance(filtered[i], background) > OBJECT_DISTANCE;
        }
    }

    int width() {
        return width;
    }

    int height() {
        return height;
    }

    double[] background() {
        return background.clone();
    }

    /** The largest object whose pixels lie in columns [fromX, toX), cut off at those columns. */
    Optional<FoundObject> largestObject(int fromX, int toX) {
        int[] component = largestComponent(fromX, toX);
        if (component.length < MIN_OBJECT_AREA * pixels.length) {
            return Optional.empty();
        }
        return ObjectMeasurement.measure(this, component, fromX, toX);
    }

    double[] pixel(int x, int y) {
        return pixels[y * width + x];
    }

    private double[] dominantBorderColor() {
        List<double[]> border = new ArrayList<>();
        for (int x = 0; x < width; x++) {
            border.add(pixel(x, 0));
            border.add(pixel(x, height - 1));
        }
        for (int y = 1; y < height - 1; y++) {
            border.add(pixel(0, y));
            border.add(pixel(width - 1, y));
        }
        // objects may touch the border, so take the color most border pixels agree with
        List<double[]> best = List.of();
        for (double[] candidate : border) {
            List<double[]> close = border.stream()
                    .filter(other -> Rgb.distance(candidate, other) <= SAME_COLOR).toList();
            if (close.size() > best.size()) {
                best = close;
            }
        }
        double[] mean = new double[3];
        for (double[] color : best) {
            for (int c = 0; c < 3; c++) {
                mean[c] += color[c] / best.size();
            }
        }
        return mean;
    }

    private double[][] medianFiltered() {
        double[][] filtered = new double[pixels.length][3];
        double[] window = new double[9];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                for (int c = 0; c < 3; c++) {
                    int n = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            int sx = Math.min(Math.max(x + dx, 0), width - 1);
                            int sy = Math.min(Math.max(y + dy, 0), height - 1);
                            window[n++] = pixel(sx, sy)[c];
                        }
                    }
                    Arrays.sort(window);
                    filtered[y * width + x][c] = window[4];
                }
            }
        }
        return filtered;
    }

    /** Pixel indices of the largest 4-connected component of object pixels within the columns. */
    private int[] largestComponent(int fromX, int toX) {
        boolean[] seen = new boolean[pixels.length];
        int[] largest = new int[0];
        for (int y = 0; y < height; y++) {
            for (int x = fromX; x < toX; x++) {
                int start = y * width + x;
                if (!objectPixel[start] || seen[start]) {
                    continue;
                }
                List<Integer> members = new ArrayList<>();
                ArrayDeque<Integer> queue = new ArrayDeque<>(List.of(start));
                seen[start] = true;
                while (!queue.isEmpty()) {
                    int i = queue.poll();
                    members.add(i);
                    int px = i % width;
                    int py = i / width;
                    int[][] neighbours = {{px - 1, py}, {px + 1, py}, {px, py - 1}, {px, py + 1}};
                    for (int[] n : neighbours) {
                        if (n[0] >= fromX && n[0] < toX && n[1] >= 0 && n[1] < height) {
                            int j = n[1] * width + n[0];
                            if (objectPixel[j] && !seen[j]) {
                                seen[j] = true;
                                queue.add(j);
                            }
                        }
                    }
                }
                if (members.size() > largest.length) {
                    largest = members.stream().mapToInt(Integer::intValue).toArray();
                }
            }
        }
        return largest;
    }
}
