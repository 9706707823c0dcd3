package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.engine.EngineException;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TestPipelines;
import io.stipple.sampling.SamplerCatalog;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A step over a batch commits for every image or for none. The serving engine retries a batch whose step failed
 * in halves, so an image must come out of a failed attempt exactly as it went in: at the same timestep (DPM-Solver++
 * steps image by image, before the batch's affine update), with the same multistep history, and with its noise
 * stream where it was (Euler ancestral draws inside the batched update). Else it silently skips a timestep or a
 * draw, and no longer gives the image its request gives alone.
 */
class StepCommitTest {
    private static final Shape SHAPE = new Shape(1, 4, 8, 8);
    private static final int STEPS = 6;

    private static LoadedPipeline pipeline;
    private static SamplerCatalog samplers;

    @BeforeAll
    static void load() {
        pipeline = LoadedPipeline.load(PipelineDirectory.open(TestPipelines.TINY), Device.cpu());
        samplers = new SamplerCatalog(pipeline.directory().scheduler());
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    @Test
    void aBatchWhoseUpdateFailsLeavesEveryImageWhereItWas() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray context = manager.zeros(new Shape(1, pipeline.spec().textMaxLength(), pipeline.hiddenSize()));
            GuidedStep step = new GuidedStep(pipeline.unet(), GuidanceEmbedding.of(pipeline.spec()));
            UnetConditions text = UnetConditions.of(context);
            List<DenoisingImage> interrupted = images(manager, context);
            // An image whose blend fails after the U-Net call and after the others' updates: its mask has the wrong
            // shape, standing in for anything that fails there (running out of memory, say).
            DenoisingImage failing = new DenoisingImage(9, samplers.create("ddim", 0).start(STEPS), 5.0, text,
                    text, manager.newSubManager(), SHAPE,
                    new ImageStart(manager.zeros(SHAPE), manager.ones(new Shape(1, 1, 3, 3)), null));
            step.run(interrupted);
            List<float[]> before = interrupted.stream().map(image -> image.latent().toFloatArray()).toList();

            List<DenoisingImage> withFailing = new ArrayList<>(interrupted);
            withFailing.add(failing);
            assertThrows(EngineException.class, () -> step.run(withFailing));

            for (int i = 0; i < interrupted.size(); i++) {
                assertEquals(1, interrupted.get(i).trajectory().completedSteps(), "image " + i + " took no step");
                assertArrayEquals(before.get(i), interrupted.get(i).latent().toFloatArray(), "image " + i);
            }
            while (!interrupted.get(0).trajectory().finished()) {
                step.run(interrupted);
            }
            List<DenoisingImage> uninterrupted = images(manager, context);
            while (!uninterrupted.get(0).trajectory().finished()) {
                step.run(uninterrupted);
            }
            for (int i = 0; i < interrupted.size(); i++) {
                assertArrayEquals(uninterrupted.get(i).latent().toFloatArray(), interrupted.get(i).latent().toFloatArray(),
                        "image " + i + " ends where its walk without the failed attempt ends");
            }
        }
    }

    /** A DPM-Solver++ image (stepped alone, with history) and an Euler ancestral one (drawing noise every step). */
    private static List<DenoisingImage> images(NDManager manager, NDArray context) {
        UnetConditions text = UnetConditions.of(context);
        return List.of(
                new DenoisingImage(1, samplers.create("dpmpp_2m", 0).start(STEPS), 5.0, text, text,
                        manager.newSubManager(), SHAPE, null),
                new DenoisingImage(2, samplers.create("euler_a", 0).start(STEPS), 5.0, text, text,
                        manager.newSubManager(), SHAPE, null));
    }
}
