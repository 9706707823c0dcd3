package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.TorchScriptModule;
import io.stipple.sampling.AffineUpdate;
import io.stipple.sampling.Trajectory;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One denoising step for any set of images of one latent shape: a single U-Net call over all their
 * rows, each row at its own image's timestep, then classifier-free guidance
 * ε = ε_u + w·(ε_c − ε_u) and each image's own sampler update. A guidance-embedded U-Net gets one row per
 * image and each row's guidance embedding instead.
 *
 * <p>Beside the U-Net call the work stays constant as the batch grows: guidance is one set of tensor operations
 * on a per-row vector of scales, and every image whose step is affine (DDIM, LCM, Euler ancestral: x' = a·x +
 * b·ε + c·z) moves in one more set, on per-row coefficient vectors. Only DPM-Solver++ (which reads its previous
 * x̂₀) and clipped x̂₀ are stepped image by image. Each image still draws its noise from its own stream, and
 * the result has the bits {@link Trajectory#step} gives it alone. Every temporary of the step lives in one
 * {@link NDScope} and is released when the step ends.
 */
public final class GuidedStep {
    private final TorchScriptModule unet;
    private final Optional<GuidanceEmbedding> guidanceEmbedding;

    public GuidedStep(TorchScriptModule unet, Optional<GuidanceEmbedding> guidanceEmbedding) {
        this.unet = unet;
        this.guidanceEmbedding = guidanceEmbedding;
    }

    /**
     * Steps every image once, or none: an image's step is committed only when every image's next latent exists,
     * so a batch that fails part-way can be stepped again (whole or in parts) with no image skipping a timestep
     * or a noise draw.
     */
    public void run(List<DenoisingImage> images) {
        try (NDScope scope = new NDScope()) {
            List<NDArray> next;
            try {
                next = nextLatents(images);
            } catch (RuntimeException | Error e) {
                images.forEach(DenoisingImage::abandonStep);
                throw e;
            }
            for (int i = 0; i < images.size(); i++) {
                images.get(i).commitStep(next.get(i));
            }
            scope.suppressNotUsedWarning();
        }
    }

    private List<NDArray> nextLatents(List<DenoisingImage> images) {
        List<NDArray> samples = new ArrayList<>();
        List<UnetConditions> rows = new ArrayList<>();
        int rowCount = images.stream().mapToInt(DenoisingImage::rows).sum();
        float[] timesteps = new float[rowCount];
        int row = 0;
        for (DenoisingImage image : images) {
            NDArray input = image.unetInput();
            float t = image.trajectory().currentTimestep();
            if (image.classifierFree()) {
                samples.add(input);
                rows.add(image.unconditional());
                timesteps[row++] = t;
            }
            samples.add(input);
            rows.add(image.conditional());
            timesteps[row++] = t;
        }
        NDManager manager = images.get(0).latent().getManager();
        NDList inputs = new NDList(NDArrays.concat(new NDList(samples)), manager.create(timesteps));
        for (int i = 0; i < rows.get(0).inputs().size(); i++) {
            int input = i;
            inputs.add(NDArrays.concat(new NDList(rows.stream().map(conditions -> conditions.inputs().get(input)).toList())));
        }
        guidanceEmbedding.ifPresent(embedding -> inputs.add(embeddings(embedding, images, manager)));
        NDArray output = unet.forward(inputs).head();

        List<NDArray> stepped = update(images, guided(output, images, manager), manager);
        List<NDArray> next = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            next.add(images.get(i).keepOutsideMask(stepped.get(i)));
        }
        return next;
    }

    /** One prediction row per image: the U-Net's rows are [ε_u, ε_c] for a classifier-free image, [ε] otherwise. */
    private static NDArray guided(NDArray output, List<DenoisingImage> images, NDManager manager) {
        if (images.stream().noneMatch(DenoisingImage::classifierFree)) {
            return output;
        }
        int n = images.size();
        float[] scales = new float[n];
        for (int i = 0; i < n; i++) {
            scales[i] = images.get(i).classifierFree() ? (float) images.get(i).guidanceScale() : 1f;
        }
        NDArray unconditional;
        NDArray conditional;
        if (images.stream().allMatch(DenoisingImage::classifierFree)) {
            long rows = output.getShape().get(0);
            unconditional = output.get("0:{}:2", rows);
            conditional = output.get("1:{}:2", rows);
        } else {
            // mixed with unguided images, whose own row stands in for ε_u: ε_c + 1·(ε_c − ε_c) is ε_c exactly
            List<NDArray> u = new ArrayList<>();
            List<NDArray> c = new ArrayList<>();
            int row = 0;
            for (DenoisingImage image : images) {
                u.add(output.get("{}:{}", row, row + 1));
                row += image.rows();
                c.add(output.get("{}:{}", row - 1, row));
            }
            unconditional = NDArrays.concat(new NDList(u));
            conditional = NDArrays.concat(new NDList(c));
        }
        NDArray scale = manager.create(scales, new Shape(n, 1, 1, 1));
        return unconditional.add(conditional.sub(unconditional).mul(scale));
    }

    /** Each image's proposed next latent: the affine steps all at once, the others image by image. */
    private static List<NDArray> update(List<DenoisingImage> images, NDArray predictions, NDManager manager) {
        int n = images.size();
        NDArray[] next = new NDArray[n];
        List<Integer> affine = new ArrayList<>();
        List<AffineUpdate> updates = new ArrayList<>();
        boolean[] alone = new boolean[n];
        for (int i = 0; i < n; i++) {
            Optional<AffineUpdate> update = images.get(i).trajectory().affineStep();
            alone[i] = update.isEmpty();
            if (update.isPresent()) {
                affine.add(i);
                updates.add(update.get());
            }
        }
        // one row per image, cut only when some image needs its own (a lone step, or a subset of affine ones)
        NDList rows = affine.size() == n ? null : n == 1 ? new NDList(predictions) : predictions.split(n);
        for (int i = 0; i < n; i++) {
            if (alone[i]) {
                DenoisingImage image = images.get(i);
                next[i] = image.trajectory().propose(rows.get(i), image.latent(), image.noise());
            }
        }
        if (!affine.isEmpty()) {
            NDList stepped = affineSteps(images, affine, updates, affine.size() == n ? predictions : null, rows, manager);
            for (int k = 0; k < affine.size(); k++) {
                next[affine.get(k)] = stepped.get(k);
            }
        }
        return List.of(next);
    }

    /** x' = a·x + b·ε (+ c·z) over the images {@code which}, in the order {@link AffineUpdate#apply} uses. */
    private static NDList affineSteps(List<DenoisingImage> images, List<Integer> which, List<AffineUpdate> updates,
            NDArray allPredictions, NDList rows, NDManager manager) {
        int k = which.size();
        float[] a = new float[k];
        float[] b = new float[k];
        float[] c = new float[k];
        List<NDArray> latents = new ArrayList<>();
        List<NDArray> predictions = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            AffineUpdate update = updates.get(j);
            a[j] = (float) update.sample();
            b[j] = (float) update.modelOutput();
            c[j] = (float) update.noise();
            latents.add(images.get(which.get(j)).latent());
            if (allPredictions == null) {
                predictions.add(rows.get(which.get(j)));
            }
        }
        Shape coefficients = new Shape(k, 1, 1, 1);
        NDArray x = k == 1 ? latents.get(0) : NDArrays.concat(new NDList(latents));
        NDArray m = allPredictions != null ? allPredictions : NDArrays.concat(new NDList(predictions));
        NDArray next = x.mul(manager.create(a, coefficients)).add(m.mul(manager.create(b, coefficients)));
        if (updates.stream().anyMatch(AffineUpdate::drawsNoise)) {
            List<NDArray> draws = new ArrayList<>();
            for (int j = 0; j < k; j++) {
                DenoisingImage image = images.get(which.get(j));
                Shape shape = image.latent().getShape();
                draws.add(updates.get(j).drawsNoise() ? image.noise().standardNormal(manager, shape)
                        : manager.zeros(shape));
            }
            next = next.add(NDArrays.concat(new NDList(draws)).mul(manager.create(c, coefficients)));
        }
        return k == 1 ? new NDList(next) : next.split(k);
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
