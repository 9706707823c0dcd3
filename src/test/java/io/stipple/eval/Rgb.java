package io.stipple.eval;

/** Colors as {red, green, blue} doubles in 0..255. */
final class Rgb {
    private Rgb() {
    }

    static double[] of(int packed) {
        return new double[] {packed >> 16 & 0xff, packed >> 8 & 0xff, packed & 0xff};
    }

    static double distanceSquared(double[] a, double[] b) {
        double sum = 0;
        for (int c = 0; c < 3; c++) {
            double d = a[c] - b[c];
            sum += d * d;
        }
        return sum;
    }

    static double distance(double[] a, double[] b) {
        return Math.sqrt(distanceSquared(a, b));
    }
}
