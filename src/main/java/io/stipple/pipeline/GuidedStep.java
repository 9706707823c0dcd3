package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.TorchScriptModule;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One denoising step for any set of images of one latent shape: a single U-Net call over all their
 * rows, each row at its own image's timestep, then classifier-free guidance
 * ε = ε_u + w·(ε_c − ε_u) and each image's own sampler update. A guidance-embedded U-Net gets one row per
 * image and each row's guidance embedding instead. Every temporary of the step lives in one
 * {@link NDScope} and is released when the step ends.
 */
public final class GuidedStep {
    private final TorchScriptModule unet;
    private final Optional<GuidanceEmbedding> guidanceEmbedding;

    public GuidedStep(TorchScriptModule unet, Optional<GuidanceEmbedding> guidanceEmbedding) {
        this.unet = unet;
        this.guidanceEmbedding = guidanceEmbedding;
    }

    public void run(List<DenoisingImage> images) {
        try (NDScope scope = new NDScope()) {
            List<NDArray> samples = new ArrayList<>();
            List<NDArray> contexts = new ArrayList<>();
            int rowCount = images.stream().mapToInt(DenoisingImage::rows).sum();
            float[] timesteps = new float[rowCount];
            int row = 0;
            for (DenoisingImage image : images) {
                NDArray input = image.unetInput();
                float t = image.trajectory().currentTimestep();
                if (image.classifierFree()) {
                    samples.add(input);
                    contexts.add(image.unconditional());
                    timesteps[row++] = t;
                }
                samples.add(input);
                contexts.add(image.conditional());
                timesteps[row++] = t;
            }
            NDManager manager = images.get(0).latent().getManager();
            NDList inputs = new NDList(NDArrays.concat(new NDList(samples)), manager.create(timesteps),
                    NDArrays.concat(new NDList(contexts)));
            guidanceEmbedding.ifPresent(embedding -> inputs.add(embeddings(embedding, images, manager)));
            NDArray output = unet.forward(inputs).head();

            row = 0;
            for (DenoisingImage image : images) {
                NDArray prediction;
                if (image.classifierFree()) {
                    NDArray unconditional = output.get("{}:{}", row, row + 1);
                    NDArray conditional = output.get("{}:{}", row + 1, row + 2);
                    prediction = unconditional.add(conditional.sub(unconditional).mul(image.guidanceScale()));
                    row += 2;
                } else {
                    prediction = output.get("{}:{}", row, row + 1);
                    row += 1;
                }
                NDArray next = image.keepOutsideMask(image.trajectory().step(prediction, image.latent(), image.noise()));
                NDScope.unregister(next);
                image.advanceTo(next);
            }
            scope.suppressNotUsedWarning();
        }
    }

    /** {@code timestep_cond}: one row per image (a guidance-embedded model never needs a second one). */
    private static NDArray embeddings(GuidanceEmbedding embedding, List<DenoisingImage> images, NDManager manager) {
        float[] rows = new float[images.size() * embedding.dim()];
        for (int i = 0; i < images.size(); i++) {
            embedding.write(images.get(i).guidanceScale(), rows, i * embedding.dim());
        }
        return manager.create(rows, new Shape(images.size(), embedding.dim()));
    }
}
