package io.stipple.sampling;

import static io.stipple.sampling.Schedules.config;
import static io.stipple.sampling.Schedules.geometric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NoiseScheduleTest {
    // ᾱ and β are float32, so hand-derived values agree to float32 precision only.
    private static final double FLOAT_RELATIVE = 3e-7;

    private static void assertFloatClose(double expected, double actual) {
        assertEquals(expected, actual, FLOAT_RELATIVE * Math.abs(expected));
    }

    @Test
    void linearBetasAndTheirCumulativeProduct() {
        SchedulerConfig linear = config("\"beta_schedule\": \"linear\"");
        float[] betas = BetaSchedule.betas(linear);
        assertEquals(1000, betas.length);
        assertEquals(0.0001f, betas[0]);
        assertEquals(0.02f, betas[999]);
        // β_1 = 0.0001 + 0.0199/999
        assertFloatClose(0.0001 + 0.0199 / 999, betas[1]);

        NoiseSchedule schedule = new NoiseSchedule(linear);
        assertEquals(1000, schedule.trainTimesteps());
        assertFloatClose(0.9999, schedule.alphaCumprod(0));
        // ᾱ_1 = 0.9999·(1 − β_1) = 0.99978009207
        assertFloatClose(0.9999 * (1 - (0.0001 + 0.0199 / 999)), schedule.alphaCumprod(1));
        // σ_0 = √((1 − ᾱ_0)/ᾱ_0) in float32, as diffusers computes it: 1 − 0.9999f = 1.00016594e-4, not 1e-4,
        // so σ_0 = 0.01000133 rather than the exact 0.01000050
        assertFloatClose(0.01000133, schedule.minSigma());
    }

    @Test
    void scaledLinearInterpolatesSquareRoots() {
        float[] betas = BetaSchedule.betas(config(
                "\"beta_schedule\": \"scaled_linear\", \"beta_start\": 0.00085, \"beta_end\": 0.012"));
        assertFloatClose(0.00085, betas[0]);
        assertFloatClose(0.012, betas[999]);
        // β_500 = (√0.00085 + 500·(√0.012 − √0.00085)/999)², not the linear midpoint 0.0064
        double root = Math.sqrt(0.00085) + 500 * (Math.sqrt(0.012) - Math.sqrt(0.00085)) / 999;
        assertFloatClose(root * root, betas[500]);
    }

    @Test
    void cosineBetasAreCappedAtTheEnd() {
        float[] betas = BetaSchedule.betas(config("\"beta_schedule\": \"squaredcos_cap_v2\""));
        // ᾱ(t) = cos²((t + 0.008)/1.008·π/2); β_0 = 1 − ᾱ(0.001)/ᾱ(0) = 4.1284225e-5
        assertFloatClose(4.1284225e-5, betas[0]);
        // β_998 = 1 − ᾱ(0.999)/ᾱ(0.998) = 0.7499994 is below the cap; ᾱ(1) = cos²(π/2) ≈ 0 makes β_999 ≈ 1, capped
        assertFloatClose(0.7499994, betas[998]);
        assertEquals(0.999f, betas[999]);
    }

    @Test
    void trainedBetasAreTakenAsGiven() {
        NoiseSchedule schedule = new NoiseSchedule(geometric(""));
        assertFloatClose(0.5, schedule.alphaCumprod(0));
        assertFloatClose(0.2, schedule.alphaCumprod(1));
        assertFloatClose(1.0 / 17, schedule.alphaCumprod(2));
    }

    @Test
    void sigmaInterpolatesLinearlyBetweenTimesteps() {
        NoiseSchedule schedule = new NoiseSchedule(geometric(""));
        // σ = √((1 − ᾱ)/ᾱ) = 1, 2, 4
        assertFloatClose(1, schedule.sigmaAt(0));
        assertFloatClose(2, schedule.sigmaAt(1));
        assertFloatClose(4, schedule.sigmaAt(2));
        assertFloatClose(1.5, schedule.sigmaAt(0.5));
        assertFloatClose(2.5, schedule.sigmaAt(1.25));
        // numpy.interp holds the end values outside the range
        assertFloatClose(1, schedule.sigmaAt(-3));
        assertFloatClose(4, schedule.sigmaAt(7.5));
        assertFloatClose(1, schedule.minSigma());
        assertFloatClose(4, schedule.maxSigma());
    }

    @Test
    void timestepForSigmaInterpolatesLogSigma() {
        NoiseSchedule schedule = new NoiseSchedule(geometric(""));
        assertEquals(0, schedule.timestepForSigma(1), 1e-6);
        assertEquals(1, schedule.timestepForSigma(2), 1e-6);
        assertEquals(2, schedule.timestepForSigma(4), 1e-6);
        // halfway in log σ: the geometric means √2 and √8
        assertEquals(0.5, schedule.timestepForSigma(Math.sqrt(2)), 1e-6);
        assertEquals(1.5, schedule.timestepForSigma(Math.sqrt(8)), 1e-6);
        assertEquals(0, schedule.timestepForSigma(0.1), 0);
        assertEquals(2, schedule.timestepForSigma(100), 0);
    }

    @Test
    void karrasTopLevelMapsExactlyOntoTheLastTimestep() {
        // (σ_max^(1/7))^7 lands a few ulps off σ_max = 20291.3; a double weight then gives 998.99999996, which the
        // cosine schedule's truncation would turn into 998 where diffusers (float32 weight) has 999.
        NoiseSchedule cosine = new NoiseSchedule(config("\"beta_schedule\": \"squaredcos_cap_v2\""));
        double topLevel = Math.pow(Math.pow(cosine.maxSigma(), 1 / 7.0), 7);
        assertEquals(999.0, cosine.timestepForSigma(topLevel), 0);
    }

    @Test
    void timestepForSigmaInvertsSigmaAt() {
        NoiseSchedule schedule = new NoiseSchedule(config(Schedules.SD));
        for (int t : new int[] {0, 1, 250, 500, 998, 999}) {
            assertEquals(t, schedule.timestepForSigma(schedule.sigmaAt(t)), 1e-3, "t = " + t);
        }
        double low = Math.log(schedule.sigmaAt(400));
        double high = Math.log(schedule.sigmaAt(401));
        assertEquals(400.5, schedule.timestepForSigma(Math.exp((low + high) / 2)), 1e-3);
        assertTrue(schedule.minSigma() < schedule.maxSigma());
    }
}
