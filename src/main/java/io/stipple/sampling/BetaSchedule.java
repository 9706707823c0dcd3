package io.stipple.sampling;

import java.util.List;

/** The β schedules diffusers builds from {@code beta_schedule}, in the float32 arithmetic it uses. */
enum BetaSchedule {
    LINEAR,
    SCALED_LINEAR,
    SQUAREDCOS_CAP_V2;

    static BetaSchedule fromConfig(String value) {
        return switch (value) {
            case "linear" -> LINEAR;
            case "scaled_linear" -> SCALED_LINEAR;
            case "squaredcos_cap_v2" -> SQUAREDCOS_CAP_V2;
            default -> throw new IllegalArgumentException(
                    "beta_schedule must be linear, scaled_linear or squaredcos_cap_v2, got \"" + value + "\"");
        };
    }

    static float[] betas(SchedulerConfig config) {
        int count = config.trainTimesteps();
        List<Double> trained = config.trainedBetas();
        if (trained != null) {
            float[] betas = new float[count];
            for (int i = 0; i < count; i++) {
                betas[i] = trained.get(i).floatValue();
            }
            return betas;
        }
        double start = config.betaStartOrDefault();
        double end = config.betaEndOrDefault();
        return switch (fromConfig(config.betaScheduleOrDefault())) {
            case LINEAR -> torchLinspace((float) start, (float) end, count);
            case SCALED_LINEAR -> {
                float[] roots = torchLinspace((float) Math.sqrt(start), (float) Math.sqrt(end), count);
                for (int i = 0; i < count; i++) {
                    roots[i] = roots[i] * roots[i];
                }
                yield roots;
            }
            case SQUAREDCOS_CAP_V2 -> cosineBetas(count);
        };
    }

    /** torch.linspace's float kernel: the first half counts up from start, the second down from end. */
    private static float[] torchLinspace(float start, float end, int count) {
        float[] values = new float[count];
        float step = (end - start) / (count - 1);
        int halfway = count / 2;
        for (int i = 0; i < count; i++) {
            values[i] = i < halfway ? start + step * i : end - step * (count - i - 1);
        }
        return values;
    }

    /** diffusers' betas_for_alpha_bar with the cosine ᾱ(t) of Nichol and Dhariwal, β capped at 0.999. */
    private static float[] cosineBetas(int count) {
        float[] betas = new float[count];
        for (int i = 0; i < count; i++) {
            double t1 = (double) i / count;
            double t2 = (double) (i + 1) / count;
            betas[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
        }
        return betas;
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }
}
