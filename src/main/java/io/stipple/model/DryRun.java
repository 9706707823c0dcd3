package io.stipple.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Map;

/**
 * Runs a pipeline's modules on dummy inputs: once at a small size when it loads, to refuse a broken export with the
 * file named (every output's shape checked against the contract, docs/pipeline-format.md), and once at the default
 * size to warm it up before readiness.
 */
final class DryRun {
    private static final int ROWS = 2;

    private final PipelineDirectory directory;
    private final PipelineSpec spec;
    private final Device device;
    private final Map<String, TorchScriptModule> modules;

    /** The text's widths: D of the hidden states the U-Net attends to, and P of the pooled embeddings (0: none). */
    record TextSizes(int hidden, int pooled) {
    }

    DryRun(PipelineDirectory directory, Device device, Map<String, TorchScriptModule> modules) {
        this.directory = directory;
        this.spec = directory.spec();
        this.device = device;
        this.modules = modules;
    }

    TextSizes check() {
        int factor = spec.vaeScaleFactor();
        int latentSide = spec.probeSide() / factor;
        try (NDManager manager = NDManager.newBaseManager(device)) {
            Text text = encodePadding(manager, true);
            Shape latentShape = new Shape(ROWS, spec.latentChannels(), latentSide, latentSide);
            NDArray sample = manager.zeros(latentShape, DataType.FLOAT32);
            NDArray noise = single(PipelineDirectory.UNET, unetInputs(manager, latentSide, latentSide,
                    manager.create(new float[] {999f, 1f}), text));
            if (!noise.getShape().equals(latentShape)) {
                throw wrongShape(PipelineDirectory.UNET, noise, latentShape + ", the shape of its input sample");
            }

            NDArray image = single(PipelineDirectory.VAE_DECODER, new NDList(sample.get("0:1")));
            Shape imageShape = new Shape(1, 3, latentSide * (long) factor, latentSide * (long) factor);
            if (!image.getShape().equals(imageShape)) {
                throw wrongShape(PipelineDirectory.VAE_DECODER, image, imageShape + " (latent size × vae_scale_factor "
                        + factor + ")");
            }
            if (modules.containsKey(PipelineDirectory.VAE_ENCODER)) {
                NDArray latent = single(PipelineDirectory.VAE_ENCODER, new NDList(image));
                if (!latent.getShape().equals(sample.get("0:1").getShape())) {
                    throw wrongShape(PipelineDirectory.VAE_ENCODER, latent, sample.get("0:1").getShape()
                            + " (image size / vae_scale_factor " + factor + ")");
                }
            }
            return new TextSizes(Math.toIntExact(text.hidden.getShape().get(2)),
                    text.pooled == null ? 0 : Math.toIntExact(text.pooled.getShape().get(1)));
        } catch (ModelDirectoryException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelDirectoryException(directory.root() + ": dry run failed: " + e.getMessage(), e);
        }
    }

    /** The U-Net for one guided image and the decoder for one image at the default size; the milliseconds it took. */
    double warmUp() {
        long start = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager(device)) {
            Shape latentShape = spec.latentShape(1, spec.defaultWidth(), spec.defaultHeight());
            modules.get(PipelineDirectory.UNET).forward(unetInputs(manager, latentShape.get(2), latentShape.get(3),
                    manager.create(new float[] {999f, 999f}), encodePadding(manager, false)));
            modules.get(PipelineDirectory.VAE_DECODER).forward(new NDList(manager.zeros(latentShape)));
        }
        return (System.nanoTime() - start) / 1e6;
    }

    /** The text encoders' outputs for rows of padding only. */
    private record Text(NDArray hidden, NDArray pooled) {
    }

    /**
     * Encodes {@link #ROWS} prompts of padding; with {@code checked}, each output's shape is checked, and the
     * {@code clip_skip} input too where the encoders take it.
     */
    private Text encodePadding(NDManager manager, boolean checked) {
        int length = spec.textMaxLength();
        NDArray first = single(PipelineDirectory.TEXT_ENCODER, new NDList(paddingIds(manager, spec.padTokenId())));
        if (checked) {
            checkHidden(PipelineDirectory.TEXT_ENCODER, first, length);
        }
        if (!spec.twoTextEncoders()) {
            if (checked && spec.maxClipSkipOrDefault() > 0) {
                checkHidden(PipelineDirectory.TEXT_ENCODER, single(PipelineDirectory.TEXT_ENCODER, new NDList(
                        paddingIds(manager, spec.padTokenId()), clipSkips(manager))), length);
            }
            return new Text(first, null);
        }
        NDList second = modules.get(PipelineDirectory.TEXT_ENCODER_2)
                .forward(new NDList(paddingIds(manager, spec.padTokenId2())));
        if (checked) {
            checkSecondEncoder(second, length);
            if (spec.maxClipSkipOrDefault() > 0) {
                checkHidden(PipelineDirectory.TEXT_ENCODER, single(PipelineDirectory.TEXT_ENCODER, new NDList(
                        paddingIds(manager, spec.padTokenId()), clipSkips(manager))), length);
                checkSecondEncoder(modules.get(PipelineDirectory.TEXT_ENCODER_2).forward(new NDList(
                        paddingIds(manager, spec.padTokenId2()), clipSkips(manager))), length);
            }
        }
        return new Text(NDArrays.concat(new NDList(first, second.get(0)), 2), second.get(1));
    }

    private NDArray paddingIds(NDManager manager, int padId) {
        return manager.full(new Shape(ROWS, spec.textMaxLength()), (long) padId, DataType.INT64);
    }

    /** No skip for the first row, the most for the second. */
    private NDArray clipSkips(NDManager manager) {
        return manager.create(new long[] {0, spec.maxClipSkipOrDefault()});
    }

    private void checkHidden(String file, NDArray hidden, int length) {
        Shape shape = hidden.getShape();
        if (shape.dimension() != 3 || shape.get(0) != ROWS || shape.get(1) != length) {
            throw wrongShape(file, hidden, "[" + ROWS + ", " + length + ", D] for input_ids [" + ROWS + ", " + length + "]");
        }
    }

    private void checkSecondEncoder(NDList outputs, int length) {
        if (outputs.size() != 2 || outputs.stream().anyMatch(output -> output.getDataType() != DataType.FLOAT32)) {
            throw new ModelDirectoryException(directory.file(PipelineDirectory.TEXT_ENCODER_2)
                    + ": must return two float32 tensors (hidden states, text_embeds), returned " + outputs.size()
                    + " of types " + outputs.stream().map(a -> a.getDataType().toString()).toList());
        }
        checkHidden(PipelineDirectory.TEXT_ENCODER_2, outputs.get(0), length);
        Shape pooled = outputs.get(1).getShape();
        if (pooled.dimension() != 2 || pooled.get(0) != ROWS) {
            throw wrongShape(PipelineDirectory.TEXT_ENCODER_2, outputs.get(1), "text_embeds [" + ROWS + ", P]");
        }
    }

    /**
     * The U-Net's inputs for {@link #ROWS} rows of zero latents: SDXL's zero pooled embeddings and time ids of the
     * size itself, and a guidance-embedded U-Net's zero {@code timestep_cond}.
     */
    private NDList unetInputs(NDManager manager, long height, long width, NDArray timesteps, Text text) {
        NDList inputs = new NDList(manager.zeros(new Shape(ROWS, spec.unetInChannelsOrDefault(), height, width),
                DataType.FLOAT32), timesteps, text.hidden);
        if (spec.textTimeConditioning()) {
            float h = height * spec.vaeScaleFactor();
            float w = width * spec.vaeScaleFactor();
            inputs.add(manager.zeros(text.pooled.getShape(), DataType.FLOAT32));
            inputs.add(manager.create(new float[] {h, w, 0, 0, h, w, h, w, 0, 0, h, w}, new Shape(ROWS, 6)));
        }
        if (spec.guidanceEmbedded()) {
            inputs.add(manager.zeros(new Shape(ROWS, spec.timeCondProjDim()), DataType.FLOAT32));
        }
        return inputs;
    }

    private NDArray single(String file, NDList inputs) {
        NDList outputs;
        try {
            outputs = modules.get(file).forward(inputs);
        } catch (RuntimeException e) {
            throw new ModelDirectoryException(directory.file(file) + ": failed on inputs of shapes "
                    + inputs.getShapes() + ": " + e.getMessage(), e);
        }
        if (outputs.size() != 1 || outputs.head().getDataType() != DataType.FLOAT32) {
            throw new ModelDirectoryException(directory.file(file) + ": must return one float32 tensor, returned "
                    + outputs.size() + " of types " + outputs.stream().map(a -> a.getDataType().toString()).toList());
        }
        return outputs.head();
    }

    private ModelDirectoryException wrongShape(String file, NDArray output, String expected) {
        return new ModelDirectoryException(directory.file(file) + ": output shape " + output.getShape()
                + " does not match the expected " + expected);
    }
}
