package io.stipple.shipped;

import io.stipple.shipped.SoakSample.Series;
import java.util.List;
import java.util.Locale;

/**
 * How far one series moved over the steady state (the samples after warm-up): the median of its last tenth
 * against the median of its first tenth (at least three samples each). Medians, because single samples
 * catch the server at a busy or idle instant: live NDArrays, for one, count the tensors of the jobs in
 * flight.
 */
record SoakDrift(Series series, double start, double end) {
    private static final int MIN_WINDOW = 3;

    static SoakDrift of(Series series, List<SoakSample> steady) {
        if (steady.size() < 2 * MIN_WINDOW) {
            throw new AssertionError("only " + steady.size() + " samples after warm-up; a soak needs "
                    + 2 * MIN_WINDOW + " or more (sample more often, or send more requests)");
        }
        int window = Math.max(MIN_WINDOW, steady.size() / 10);
        List<Double> values = series.of(steady);
        return new SoakDrift(series, median(values.subList(0, window)),
                median(values.subList(values.size() - window, values.size())));
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int middle = sorted.size() / 2;
        return sorted.size() % 2 == 1 ? sorted.get(middle) : (sorted.get(middle - 1) + sorted.get(middle)) / 2;
    }

    /** The change from start to end, in percent of the start. */
    double percent() {
        return start == 0 ? (end == 0 ? 0 : Double.POSITIVE_INFINITY) : (end - start) / start * 100;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s %.1f → %.1f%s (%+.1f%%)", series.title, start, end,
                series.unit.isEmpty() ? "" : " " + series.unit, percent());
    }
}
