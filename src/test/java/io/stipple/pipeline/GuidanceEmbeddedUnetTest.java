package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.engine.GenerationService;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.ServedModels;
import io.stipple.model.PipelineSpec;
import io.stipple.sampling.NoiseSource;
import io.stipple.sampling.SamplerCatalog;
import io.stipple.sampling.SeededNoise;
import io.stipple.sampling.Trajectory;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * A guidance-embedded U-Net (time_cond_proj_dim, as LCMs have) gets one row per image and that image's guidance
 * embedding as {@code timestep_cond}, never a second, unconditional row. The fixture's U-Net is a probe
 * (src/tools/fixture/make_probe_pipelines.py) that predicts ε[c] = timestep_cond[c], so replaying the sampler with
 * that ε here must give the served image byte for byte, alone, in the engine, and batched with other scales.
 */
@SpringBootTest(properties = {"stipple.model-dir=src/test/resources/pipelines/tiny-guidance-embedded", "stipple.embedded-models=false"})
class GuidanceEmbeddedUnetTest {
    private static final int SIDE = 32;

    @Autowired
    ServedModels served;
    @Autowired
    GenerationService service;

    @BeforeEach
    void likeTheWorker() {
        JniUtils.setGraphExecutorOptimize(false);
    }

    private GenerationRequest request(double guidanceScale, long seed) {
        return new GenerationRequest(models().spec().name(), "a red circle", "a blue square", SIDE, SIDE, 5, guidanceScale,
                Guidance.EMBEDDED, "ddim", 0.0, List.of(seed), null);
    }

    @Test
    void everyScaleCostsOneRowPerImage() {
        assertEquals(Guidance.EMBEDDED, request(7.5, 1).guidance());
        assertEquals(1, request(7.5, 1).rows());
        assertEquals(1, request(1.0, 1).rows());
    }

    @Test
    void theUnetSeesTheImagesOwnGuidanceEmbedding() {
        GenerationRequest request = request(4.0, 11);
        byte[] replayed = replayed(request);
        assertArrayEquals(replayed, new GenerationPipeline(models()).generate(request, 0).images().get(0).png(), "alone");
        assertArrayEquals(replayed, service.submit(request, "test").completion().join().images().get(0).png(),
                "in the engine");
        assertFalse(Arrays.equals(replayed, replayed(request(2.0, 11))), "the scale must change the image");
    }

    @Test
    void imagesWithDifferentScalesShareUnetCallsAndStayTheirOwn() {
        List<GenerationRequest> requests = List.of(request(1.5, 21), request(6.0, 22), request(9.0, 23));
        List<CompletableFuture<GenerationResult>> results = requests.stream()
                .map(r -> service.submit(r, "test").completion()).toList();
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(replayed(requests.get(i)), results.get(i).join().images().get(0).png(), "request " + i);
        }
    }

    /** The sampler walked with the probe's prediction, written out here rather than through the serving code. */
    private byte[] replayed(GenerationRequest request) {
        PipelineSpec spec = models().spec();
        int side = SIDE / spec.vaeScaleFactor();
        Shape shape = new Shape(1, spec.latentChannels(), side, side);
        float[] embedding = new float[spec.timeCondProjDim()];
        new GuidanceEmbedding(spec.timeCondProjDim()).write(request.guidanceScale(), embedding, 0);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray epsilon = manager.create(Arrays.copyOf(embedding, spec.latentChannels()),
                    new Shape(1, spec.latentChannels(), 1, 1)).broadcast(shape);
            Trajectory trajectory = new SamplerCatalog(models().directory().scheduler()).create("ddim", 0)
                    .start(request.steps());
            NoiseSource noise = new SeededNoise(request.seeds().get(0));
            NDArray sample = trajectory.initialSample(manager, shape, noise);
            while (!trajectory.finished()) {
                sample = trajectory.step(epsilon, sample, noise);
            }
            BufferedImage decoded = new ImageDecoder(models().vaeDecoder(), spec.scalingFactor()).decode(List.of(sample)).get(0);
            return PngEncoder.encode(decoded);
        }
    }

    /** The model the server serves by default: the one this test is about. */
    private LoadedPipeline models() {
        return served.defaultModel().pipeline();
    }
}
