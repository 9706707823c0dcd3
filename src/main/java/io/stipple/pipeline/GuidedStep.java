package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import io.stipple.model.TorchScriptModule;
import java.util.ArrayList;
import java.util.List;

/**
 * One denoising step for any set of images of one latent shape: a single U-Net call over all their
 * rows, each row at its own image's timestep, then classifier-free guidance
 * ε = ε_u + w·(ε_c − ε_u) and each image's own sampler update. Every temporary of the step lives in one
 * {@link NDScope} and is released when the step ends.
 */
public final class GuidedStep {
    private final TorchScriptModule unet;

    public GuidedStep(TorchScriptModule unet) {
        this.unet = unet;
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
                if (image.guided()) {
                    samples.add(input);
                    contexts.add(image.unconditional());
                    timesteps[row++] = t;
                }
                samples.add(input);
                contexts.add(image.conditional());
                timesteps[row++] = t;
            }
            NDArray first = images.get(0).latent();
            NDArray output = unet.forward(new NDList(
                    NDArrays.concat(new NDList(samples)),
                    first.getManager().create(timesteps),
                    NDArrays.concat(new NDList(contexts)))).head();

            row = 0;
            for (DenoisingImage image : images) {
                NDArray prediction;
                if (image.guided()) {
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
}
