package io.stipple.sampling;

/**
 * How a scheduler picks inference timesteps out of the training range (Table 2 of Lin et al. 2023,
 * "Common Diffusion Noise Schedules and Sample Steps are Flawed"). The arithmetic mirrors numpy's
 * {@code linspace} and {@code arange} in float64 so that rounding lands on the same integers as diffusers.
 */
public enum TimestepSpacing {
    LEADING,
    TRAILING,
    LINSPACE;

    static TimestepSpacing fromConfig(String value) {
        return switch (value) {
            case "leading" -> LEADING;
            case "trailing" -> TRAILING;
            case "linspace" -> LINSPACE;
            default -> throw new IllegalArgumentException(
                    "timestep_spacing must be leading, trailing or linspace, got \"" + value + "\"");
        };
    }

    /**
     * {@code count} timesteps, largest first, before any rounding the scheduler applies: linspace gives
     * fractional values, leading multiples of {@code trainTimesteps / count} plus the offset, trailing
     * rounded values minus one.
     */
    double[] descending(int trainTimesteps, int count, int stepsOffset) {
        double[] ascending = switch (this) {
            case LINSPACE -> numpyLinspace(trainTimesteps - 1, count);
            case LEADING -> {
                int ratio = trainTimesteps / count;
                double[] values = new double[count];
                for (int i = 0; i < count; i++) {
                    values[i] = (double) i * ratio + stepsOffset;
                }
                yield values;
            }
            case TRAILING -> trailing(trainTimesteps, count);
        };
        return reversed(ascending);
    }

    /** numpy.linspace(0, stop, num): i * (stop / (num - 1)), with the endpoint stored exactly. */
    private static double[] numpyLinspace(double stop, int num) {
        double[] values = new double[num];
        if (num > 1) {
            double step = stop / (num - 1);
            for (int i = 0; i < num; i++) {
                values[i] = i * step;
            }
            values[num - 1] = stop;
        }
        return values;
    }

    /** round(numpy.arange(T, 0, -T/count)) - 1, returned in ascending order. */
    private static double[] trailing(int trainTimesteps, int count) {
        double step = -((double) trainTimesteps / count);
        int length = (int) Math.ceil(-trainTimesteps / step);
        // numpy fills an arange from its first two elements: start + i * ((start + step) - start).
        double delta = (trainTimesteps + step) - trainTimesteps;
        double[] ascending = new double[length];
        for (int i = 0; i < length; i++) {
            ascending[length - 1 - i] = Math.rint(trainTimesteps + i * delta) - 1;
        }
        return ascending;
    }

    private static double[] reversed(double[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[values.length - 1 - i];
        }
        return out;
    }
}
