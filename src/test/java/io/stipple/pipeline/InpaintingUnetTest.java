package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
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
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * An inpainting U-Net (2C + 1 input channels, Stable Diffusion's inpainting checkpoints) gets what diffusers'
 * inpaint pipeline gives it: the scaled latent, then the mask, then the masked image's latent. The fixture's U-Net
 * is a probe (src/tools/fixture/make_probe_pipelines.py) that predicts ε = masked-image latent + mask, so
 * replaying the sampler with that ε here must give the served image byte for byte, alone and in the engine, for
 * text-to-image (mask all ones, blank image), inpainting below strength 1 (from the noised image) and at
 * strength 1 (from pure noise, as diffusers' inpaint pipeline starts). The helpers the replay borrows for the mask
 * and the masked image ({@link ImageStart#latentMask}, {@link ImageEncoder#encodeMasked}) are checked against
 * diffusers' own code by {@link DiffusersInpaintInputsTest}.
 */
@SpringBootTest(properties = {"stipple.model-dir=src/test/resources/pipelines/tiny-inpainting", "stipple.embedded-models=false"})
class InpaintingUnetTest {
    private static final int SIDE = 32;

    @Autowired
    ServedModels served;
    @Autowired
    GenerationService service;

    @BeforeEach
    void likeTheWorker() {
        JniUtils.setGraphExecutorOptimize(false);
    }

    private static GenerationRequest request(InitImage init) {
        return new GenerationRequest("tiny-inpainting-probe", "a red circle", "", SIDE, SIDE, 6, 5.0, Guidance.CLASSIFIER_FREE, "ddim", 0.0, List.of(11L), init);
    }

    @Test
    void textToImageFeedsAFullMaskAndABlankImage() {
        assertServedAsReplayed(request(null));
    }

    @Test
    void inpaintingBelowStrengthOneStartsFromTheNoisedImage() {
        assertServedAsReplayed(request(new InitImage(picture(), 0.7, rightHalf())));
    }

    @Test
    void inpaintingAtStrengthOneStartsFromNoise() {
        assertServedAsReplayed(request(new InitImage(picture(), 1.0, rightHalf())));
    }

    private void assertServedAsReplayed(GenerationRequest request) {
        byte[] expected = replayed(request);
        assertArrayEquals(expected, new GenerationPipeline(models()).generate(request, 0).images().get(0).png(), "alone");
        assertArrayEquals(expected, service.submit(request, "test").completion().join().images().get(0).png(),
                "in the engine");
    }

    /** The sampler walked with the probe's prediction, written out here rather than through the serving code. */
    private byte[] replayed(GenerationRequest request) {
        PipelineSpec spec = models().spec();
        ImageEncoder encoder = new ImageEncoder(models().vaeEncoder().orElseThrow(), spec.scalingFactor());
        InitImage init = request.init();
        int side = SIDE / spec.vaeScaleFactor();
        Shape shape = new Shape(1, spec.latentChannels(), side, side);
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray mask = init == null ? manager.ones(new Shape(1, 1, side, side), DataType.FLOAT32)
                    : ImageStart.latentMask(manager, init.mask(), spec.vaeScaleFactor());
            NDArray masked = init == null ? encoder.encodeBlank(manager, SIDE, SIDE)
                    : encoder.encodeMasked(manager, init.image(), init.mask());
            NDArray epsilon = masked.add(mask);
            Trajectory trajectory = init == null
                    ? new SamplerCatalog(models().directory().scheduler()).create("ddim", 0).start(request.steps())
                    : new SamplerCatalog(models().directory().scheduler()).create("ddim", 0)
                            .start(request.steps(), init.strength());
            NoiseSource noise = new SeededNoise(request.seeds().get(0));
            NDArray sample = init == null || init.strength() >= 1 ? trajectory.initialSample(manager, shape, noise)
                    : trajectory.noised(encoder.encode(manager, init.image()), noise.standardNormal(manager, shape));
            while (!trajectory.finished()) {
                sample = trajectory.step(epsilon, sample, noise);
            }
            BufferedImage decoded = new ImageDecoder(models().vaeDecoder(), spec.scalingFactor()).decode(List.of(sample)).get(0);
            return PngEncoder.encode(init == null ? decoded : InpaintComposite.apply(decoded, init));
        }
    }

    private static BufferedImage picture() {
        BufferedImage image = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        graphics.setColor(new Color(0x2040C0));
        graphics.fillRect(0, 0, SIDE, SIDE);
        graphics.setColor(new Color(0xE03020));
        graphics.fillOval(4, 8, 14, 14);
        graphics.dispose();
        return image;
    }

    private static BufferedImage rightHalf() {
        BufferedImage mask = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = mask.createGraphics();
        graphics.setColor(Color.WHITE);
        graphics.fillRect(SIDE / 2, 0, SIDE / 2, SIDE);
        graphics.dispose();
        return mask;
    }

    /** The model the server serves by default: the one this test is about. */
    private LoadedPipeline models() {
        return served.defaultModel().pipeline();
    }
}
