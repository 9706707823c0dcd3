package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.sampling.NoiseSource;
import io.stipple.sampling.SamplerCatalog;
import io.stipple.sampling.SeededNoise;
import io.stipple.sampling.Trajectory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link GuidedStep} updates the images of a batch together (one set of tensor operations for every affine step)
 * and must give each image the very bits {@link Trajectory#step} gives it alone: the probe U-Net of
 * src/tools/fixture/make_probe_pipelines.py predicts ε[c] = timestep_cond[c], so each image's walk can be
 * replayed by itself here. The batch mixes samplers (DDIM with and without noise, LCM, Euler ancestral, Euler with
 * and without Karras levels, and DPM-Solver++, which is stepped image by image), guidance scales and step counts.
 */
class BatchedStepTest {
    private static final Path PROBE = Path.of("src/test/resources/pipelines/tiny-guidance-embedded");
    private static final Shape SHAPE = new Shape(1, 4, 4, 4);

    private static LoadedPipeline pipeline;
    private static SamplerCatalog samplers;

    @BeforeAll
    static void load() {
        pipeline = LoadedPipeline.load(PipelineDirectory.open(PROBE), Device.cpu());
        samplers = new SamplerCatalog(pipeline.directory().scheduler());
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    private record Walk(String sampler, double eta, int steps, double guidance, long seed) {
    }

    private static final List<Walk> WALKS = List.of(
            new Walk("ddim", 0, 6, 3.0, 1), new Walk("ddim", 0.5, 5, 7.5, 2), new Walk("lcm", 0, 4, 2.0, 3),
            new Walk("euler_a", 0, 6, 5.0, 4), new Walk("dpmpp_2m", 0, 6, 4.0, 5), new Walk("lcm", 0, 2, 9.0, 6),
            new Walk("euler", 0, 5, 6.0, 7), new Walk("euler_karras", 0, 7, 3.5, 8));

    @Test
    void everyImageOfABatchGetsTheBitsItsOwnWalkGives() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray context = manager.zeros(new Shape(1, pipeline.spec().textMaxLength(), pipeline.hiddenSize()));
            List<DenoisingImage> batch = new ArrayList<>();
            for (Walk walk : WALKS) {
                batch.add(new DenoisingImage(walk.seed, samplers.create(walk.sampler, walk.eta).start(walk.steps),
                        walk.guidance, UnetConditions.of(context), null, manager.newSubManager(), SHAPE, null));
            }
            GuidedStep step = new GuidedStep(pipeline.unet(), GuidanceEmbedding.of(pipeline.spec()));
            while (batch.stream().anyMatch(image -> !image.trajectory().finished())) {
                step.run(batch.stream().filter(image -> !image.trajectory().finished()).toList());
            }
            for (int i = 0; i < WALKS.size(); i++) {
                assertArrayEquals(alone(WALKS.get(i), manager), batch.get(i).latent().toFloatArray(),
                        WALKS.get(i).toString());
            }
        }
    }

    /** The walk replayed by itself with the probe's prediction, through Trajectory.step. */
    private static float[] alone(Walk walk, NDManager manager) {
        int dim = pipeline.spec().timeCondProjDim();
        float[] embedding = new float[dim];
        new GuidanceEmbedding(dim).write(walk.guidance, embedding, 0);
        NDArray epsilon = manager.create(Arrays.copyOf(embedding, 4), new Shape(1, 4, 1, 1)).broadcast(SHAPE);
        Trajectory trajectory = samplers.create(walk.sampler, walk.eta).start(walk.steps);
        NoiseSource noise = new SeededNoise(walk.seed);
        NDArray sample = trajectory.initialSample(manager, SHAPE, noise);
        int steps = 0;
        while (!trajectory.finished()) {
            sample = trajectory.step(epsilon, sample, noise);
            steps++;
        }
        assertEquals(walk.steps, steps);
        return sample.toFloatArray();
    }
}
