package io.stipple.shipped;

import io.stipple.shipped.SoakSample.Series;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The soak's samples as an SVG: one panel per series against minutes of load, the warm-up shaded, and the
 * ±{@code tolerance} band around each series' level at the start of the steady state in which the
 * series must stay. Values start at zero, so a flat line looks flat for what it is.
 */
final class SoakPlot {
    private static final int WIDTH = 900;
    private static final int PANEL = 170;
    private static final int LEFT = 80;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int GAP = 45;

    private final List<SoakSample> samples;
    private final double warmupSeconds;
    private final Map<Series, SoakDrift> drifts;
    private final double tolerance;
    private final double minutes;
    private final StringBuilder svg = new StringBuilder();

    private SoakPlot(List<SoakSample> samples, double warmupSeconds, Map<Series, SoakDrift> drifts, double tolerance) {
        this.samples = samples;
        this.warmupSeconds = warmupSeconds;
        this.drifts = drifts;
        this.tolerance = tolerance;
        this.minutes = Math.max(samples.get(samples.size() - 1).seconds() / 60, 1e-3);
    }

    static String svg(String title, List<SoakSample> samples, double warmupSeconds, Map<Series, SoakDrift> drifts,
            double tolerance) {
        return new SoakPlot(samples, warmupSeconds, drifts, tolerance).draw(title);
    }

    private String draw(String title) {
        Series[] series = Series.values();
        int height = TOP + series.length * (PANEL + GAP);
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n", WIDTH, height, WIDTH, height));
        svg.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", WIDTH, height));
        text(LEFT, 24, title, "font-weight=\"bold\" font-size=\"14\"");
        for (int i = 0; i < series.length; i++) {
            panel(series[i], TOP + i * (PANEL + GAP));
        }
        return svg.append("</svg>\n").toString();
    }

    private void panel(Series series, int top) {
        SoakDrift drift = drifts.get(series);
        double max = niceCeiling(Math.max(series.of(samples).stream().mapToDouble(Double::doubleValue).max()
                .orElse(1), drift.start() * (1 + tolerance)) * 1.1);
        int plotWidth = WIDTH - LEFT - RIGHT;

        text(LEFT, top - 8, drift + ", start to end of the steady state", "font-weight=\"bold\"");
        rect(LEFT, top, x(warmupSeconds), PANEL, "#eeeeee");
        text(LEFT + 4, top + 14, "warm-up", "fill=\"#777777\"");
        double low = y(drift.start() * (1 - tolerance), top, max);
        double high = y(drift.start() * (1 + tolerance), top, max);
        rect(LEFT + x(warmupSeconds), high, plotWidth - x(warmupSeconds), low - high, "#d8f0d8");
        for (int tick = 0; tick <= 4; tick++) {
            double value = max * tick / 4;
            double y = y(value, top, max);
            line(LEFT, y, LEFT + plotWidth, y, "#cccccc");
            text(LEFT - 6, y + 4, number(value), "text-anchor=\"end\"");
        }
        int step = Math.max(1, (int) Math.ceil(minutes / 10));
        for (int minute = 0; minute <= minutes; minute += step) {
            double x = LEFT + x(minute * 60.0);
            line(x, top + PANEL, x, top + PANEL + 4, "#000000");
            text(x, top + PANEL + 16, minute + " min", "text-anchor=\"middle\"");
        }
        StringBuilder points = new StringBuilder();
        for (SoakSample sample : samples) {
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", LEFT + x(sample.seconds()),
                    y(series.of(sample), top, max)));
        }
        svg.append(String.format(Locale.ROOT,
                "<polyline points=\"%s\" fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"1.5\"/>\n", points.toString().trim()));
        svg.append(String.format(Locale.ROOT,
                "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#000000\"/>\n", LEFT, top,
                plotWidth, PANEL));
    }

    private double x(double seconds) {
        return seconds / 60 / minutes * (WIDTH - LEFT - RIGHT);
    }

    private static double y(double value, int top, double max) {
        return top + PANEL - value / max * PANEL;
    }

    /** The smallest 1, 2 or 5 times a power of ten at or above {@code value}. */
    private static double niceCeiling(double value) {
        double power = Math.pow(10, Math.floor(Math.log10(Math.max(value, 1))));
        for (double multiple : new double[] {1, 2, 5, 10}) {
            if (multiple * power >= value) {
                return multiple * power;
            }
        }
        return 10 * power;
    }

    private static String number(double value) {
        return value == Math.rint(value) ? Long.toString((long) value) : String.format(Locale.ROOT, "%.1f", value);
    }

    private void rect(double x, double y, double width, double height, String fill) {
        svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                x, y, Math.max(0, width), Math.max(0, height), fill));
    }

    private void line(double x1, double y1, double x2, double y2, String stroke) {
        svg.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                x1, y1, x2, y2, stroke));
    }

    private void text(double x, double y, String text, String attributes) {
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" %s>%s</text>\n", x, y, attributes,
                text.replace("&", "&amp;").replace("<", "&lt;")));
    }
}
