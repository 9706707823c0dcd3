package io.stipple.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stipple.model.TorchScriptModule;
import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.UnetConditions;
import io.stipple.pipeline.GuidedStep;
import io.stipple.pipeline.ImageStart;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replays src/test/resources/reference/samplers.json, written by
 * src/tools/reference/make_sampler_reference.py (a transcription of diffusers' schedulers run under
 * PyTorch), against the Java samplers: the same configs must give the same timesteps and noise levels,
 * and the same model outputs must walk the same trajectories. Image-to-image and inpainting run through
 * the production step ({@link DenoisingImage} and {@link GuidedStep}), so the noising of the original, the
 * batched update and inpainting's blend are the ones the server runs.
 */
class DiffusersReferenceTest {
    /*
     * float32 rounding: diffusers does every per-step operation in float32 tensors, the Java samplers
     * compute scalars in double, and torch.linspace's vectorised kernel leaves some betas 1 ulp away from
     * any scalar formula (see the JSON's notes), so ᾱ agrees only to ~3e-7 relative.
     */
    private static final double ABSOLUTE_TOLERANCE = 1e-5;
    private static final double RELATIVE_TOLERANCE = 1e-5;
    private static final double FRACTIONAL_TIMESTEP_TOLERANCE = 1e-3;
    /** The samplers whose timesteps diffusers keeps fractional (linspace spacing, Euler's Karras levels). */
    private static final Set<String> FRACTIONAL_TIMESTEPS = Set.of("euler_a", "euler", "euler_karras");
    /** Karras levels are not a function of the timesteps; their trajectories check them instead. */
    private static final Set<String> KARRAS_LEVELS = Set.of("dpmpp_2m_karras", "euler_karras");

    /** The reference's linear model as a U-Net, written by src/tools/reference/make_probe_modules.py. */
    private static final Path LINEAR_UNET = Path.of("src/test/resources/reference/linear_unet.pt");

    private static final Reference REFERENCE = load();
    private static NDManager manager;
    private static TorchScriptModule linearUnet;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Reference(
            @JsonProperty("schedule_checks") List<ScheduleCheck> scheduleChecks,
            @JsonProperty("timestep_cases") List<TimestepCase> timestepCases,
            @JsonProperty("trajectory_cases") List<TrajectoryCase> trajectoryCases,
            @JsonProperty("image_to_image_cases") List<ImageToImageCase> imageToImageCases) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record ScheduleCheck(
            @JsonProperty("config_name") String configName,
            @JsonProperty("config") SchedulerConfig config,
            @JsonProperty("indices") int[] indices,
            @JsonProperty("betas") double[] betas,
            @JsonProperty("alphas_cumprod") double[] alphasCumprod) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record TimestepCase(
            @JsonProperty("sampler") String sampler,
            @JsonProperty("config_name") String configName,
            @JsonProperty("config") SchedulerConfig config,
            @JsonProperty("steps") int steps,
            @JsonProperty("timesteps") double[] timesteps,
            @JsonProperty("init_noise_sigma") double initNoiseSigma,
            @JsonProperty("sigmas") double[] sigmas) {
        String label() {
            return sampler + " " + configName + " " + steps + " steps";
        }
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    record TrajectoryCase(
            @JsonProperty("name") String name,
            @JsonProperty("sampler") String sampler,
            @JsonProperty("eta") double eta,
            @JsonProperty("config") SchedulerConfig config,
            @JsonProperty("steps") int steps,
            @JsonProperty("shape") long[] shape,
            @JsonProperty("model") LinearModel model,
            @JsonProperty("initial_noise") float[] initialNoise,
            @JsonProperty("step_noise") float[][] stepNoise,
            @JsonProperty("timesteps") double[] timesteps,
            @JsonProperty("init_noise_sigma") double initNoiseSigma,
            @JsonProperty("samples") float[][] samples) {
    }

    /** Image-to-image from {@code original}, and with a {@code mask} (1: repaint) inpainting's blend after every step. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ImageToImageCase(
            @JsonProperty("name") String name,
            @JsonProperty("sampler") String sampler,
            @JsonProperty("config") SchedulerConfig config,
            @JsonProperty("steps") int steps,
            @JsonProperty("strength") double strength,
            @JsonProperty("shape") long[] shape,
            @JsonProperty("model") LinearModel model,
            @JsonProperty("original") float[] original,
            @JsonProperty("noise") float[] noise,
            @JsonProperty("step_noise") float[][] stepNoise,
            @JsonProperty("timesteps") double[] timesteps,
            @JsonProperty("noised") float[] noised,
            @JsonProperty("samples") float[][] samples,
            @JsonProperty("mask") float[] mask) {
    }

    /** The reference's stand-in for a U-Net: a·input + b·sin(t/100), all in float32. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record LinearModel(@JsonProperty("a") double a, @JsonProperty("b") double b) {
        NDArray apply(NDArray input, float timestep) {
            float shift = (float) b * (float) Math.sin(timestep / 100.0);
            return input.mul((float) a).add(shift);
        }
    }

    private static Reference load() {
        try (InputStream in = DiffusersReferenceTest.class.getResourceAsStream("/reference/samplers.json")) {
            if (in == null) {
                throw new IllegalStateException("reference/samplers.json is not on the test classpath");
            }
            return JsonMapper.builder().build().readValue(in, Reference.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager();
        linearUnet = TorchScriptModule.load(LINEAR_UNET.getParent(), LINEAR_UNET.getFileName().toString(),
                Device.cpu());
    }

    @AfterAll
    static void close() {
        linearUnet.close();
        manager.close();
    }

    static Stream<Named<ScheduleCheck>> scheduleChecks() {
        return REFERENCE.scheduleChecks().stream().map(c -> Named.of(c.configName(), c));
    }

    static Stream<Named<TimestepCase>> timestepCases() {
        return REFERENCE.timestepCases().stream()
                .map(c -> Named.of(c.label(), c));
    }

    static Stream<Named<TrajectoryCase>> trajectoryCases() {
        return REFERENCE.trajectoryCases().stream().map(c -> Named.of(c.name(), c));
    }

    static Stream<Named<ImageToImageCase>> imageToImageCases() {
        return REFERENCE.imageToImageCases().stream().map(c -> Named.of(c.name(), c));
    }

    @ParameterizedTest
    @MethodSource("scheduleChecks")
    void betasAndAlphasCumprodMatchTorch(ScheduleCheck check) {
        float[] betas = BetaSchedule.betas(check.config());
        NoiseSchedule schedule = new NoiseSchedule(check.config());
        for (int k = 0; k < check.indices().length; k++) {
            int t = check.indices()[k];
            String where = check.configName() + " [" + t + "]";
            assertClose(check.betas()[k], betas[t], where + " beta");
            assertClose(check.alphasCumprod()[k], schedule.alphaCumprod(t), where + " alphas_cumprod");
        }
    }

    @ParameterizedTest
    @MethodSource("timestepCases")
    void timestepsAndNoiseLevelsMatchDiffusers(TimestepCase c) {
        String label = c.label() + ": ";
        SamplerCatalog catalog = new SamplerCatalog(c.config());
        try (Trajectory trajectory = catalog.create(c.sampler(), 0.0).start(c.steps())) {
            float[] timesteps = trajectory.timesteps();
            assertEquals(c.timesteps().length, timesteps.length, label + "number of timesteps");
            for (int i = 0; i < timesteps.length; i++) {
                double tolerance = FRACTIONAL_TIMESTEPS.contains(c.sampler()) ? FRACTIONAL_TIMESTEP_TOLERANCE : 0.0;
                assertEquals(c.timesteps()[i], timesteps[i], tolerance, label + "timestep " + i);
            }
            assertEquals(c.initNoiseSigma(), trajectory.initNoiseSigma(), 1e-5 * c.initNoiseSigma(),
                    label + "init_noise_sigma");
        }
        if (c.sigmas() != null && !KARRAS_LEVELS.contains(c.sampler())) {
            NoiseSchedule schedule = new NoiseSchedule(c.config());
            for (int i = 0; i < c.timesteps().length; i++) {
                assertClose(c.sigmas()[i], schedule.sigmaAt(c.timesteps()[i]), label + "sigma " + i);
            }
            assertEquals(0.0, c.sigmas()[c.timesteps().length], label + "final sigma");
        }
    }

    @ParameterizedTest
    @MethodSource("trajectoryCases")
    void trajectoryMatchesDiffusers(TrajectoryCase c) {
        Shape shape = new Shape(c.shape());
        ReplayedNoise noise = new ReplayedNoise(c.initialNoise(), c.stepNoise());
        SamplerCatalog catalog = new SamplerCatalog(c.config());
        try (NDManager scope = manager.newSubManager();
                Trajectory trajectory = catalog.create(c.sampler(), c.eta()).start(c.steps())) {
            assertArrayEquals(toFloats(c.timesteps()), trajectory.timesteps(), 1e-3f, c.name() + ": timesteps");
            NDArray sample = trajectory.initialSample(scope, shape, noise);
            for (int i = 0; i < c.steps(); i++) {
                float t = trajectory.currentTimestep();
                NDArray output = c.model().apply(trajectory.scaleModelInput(sample), t);
                sample = trajectory.step(output, sample, noise);
                assertSamplesClose(c.samples()[i], sample.toFloatArray(),
                        c.name() + ": step " + i + " (t = " + t + ")");
            }
            assertTrue(trajectory.finished());
        }
        assertEquals(1 + stepDraws(c.sampler(), c.eta(), c.steps()), noise.draws(),
                c.name() + ": noise draws: the initial latent, then the steps'");
    }

    /**
     * Through the production step: a {@link DenoisingImage} noises the original with the first draw of its noise,
     * {@link GuidedStep} calls the U-Net (the reference's linear model as TorchScript, its coefficients given as the
     * text conditioning), applies the sampler's update and, for inpainting, the image's blend with the original.
     */
    @ParameterizedTest
    @MethodSource("imageToImageCases")
    void imageToImageMatchesDiffusers(ImageToImageCase c) {
        Shape shape = new Shape(c.shape());
        // The image's noise stream: first the noise of the noised original, then the steps'.
        ReplayedNoise stream = new ReplayedNoise(c.noise(), c.stepNoise());
        SamplerCatalog catalog = new SamplerCatalog(c.config());
        try (NDManager scope = manager.newSubManager()) {
            Trajectory trajectory = catalog.create(c.sampler(), 0.0).start(c.steps(), c.strength());
            assertArrayEquals(toFloats(c.timesteps()), trajectory.timesteps(), 1e-3f, c.name() + ": timesteps");
            NDArray coefficients = scope.create(new float[] {(float) c.model().a(), (float) c.model().b()},
                    new Shape(1, 1, 2));
            NDArray mask = c.mask() == null ? null : scope.create(c.mask(), shape);
            ImageStart start = new ImageStart(scope.create(c.original(), shape), mask, null);
            try (DenoisingImage image = new DenoisingImage(0, stream, trajectory, 1.0, UnetConditions.of(coefficients), null, scope,
                    shape, start)) {
                assertSamplesClose(c.noised(), image.latent().toFloatArray(), c.name() + ": the noised original");
                GuidedStep step = new GuidedStep(linearUnet, Optional.empty());
                for (int i = 0; i < c.timesteps().length; i++) {
                    float t = trajectory.currentTimestep();
                    step.run(List.of(image));
                    assertSamplesClose(c.samples()[i], image.latent().toFloatArray(),
                            c.name() + ": step " + i + " (t = " + t + ")");
                }
                assertTrue(trajectory.finished());
            }
        }
        assertEquals(1 + stepDraws(c.sampler(), 0.0, c.timesteps().length), stream.draws(),
                c.name() + ": noise draws: the noised original's, then the steps'");
    }

    /** Ancestral samplers draw at every step, lcm at every step but the last, the others (euler too) never. */
    private static int stepDraws(String sampler, double eta, int steps) {
        return switch (sampler) {
            case "euler_a" -> steps;
            case "ddim" -> eta > 0 ? steps : 0;
            case "lcm" -> Math.max(steps - 1, 0);
            default -> 0;
        };
    }

    /** Hands out the reference's noise in the order the reference drew it: initial latent, then row by row. */
    private static final class ReplayedNoise implements NoiseSource {
        private final float[] initial;
        private final float[][] perStep;
        private int draws;

        ReplayedNoise(float[] initial, float[][] perStep) {
            this.initial = initial;
            this.perStep = perStep;
        }

        @Override
        public NDArray standardNormal(NDManager manager, Shape shape) {
            float[] values = draws == 0 ? initial : perStep[draws - 1];
            draws++;
            return manager.create(values, shape);
        }

        int draws() {
            return draws;
        }
    }

    private static void assertClose(double expected, double actual, String what) {
        double tolerance = ABSOLUTE_TOLERANCE + RELATIVE_TOLERANCE * Math.abs(expected);
        if (!(Math.abs(expected - actual) <= tolerance)) {
            fail(what + ": expected " + expected + " but was " + actual);
        }
    }

    private static void assertSamplesClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": size");
        for (int j = 0; j < expected.length; j++) {
            assertClose(expected[j], actual[j], what + ", element " + j);
        }
    }

    private static float[] toFloats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
