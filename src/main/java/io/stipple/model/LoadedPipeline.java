package io.stipple.model;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.ArrayList;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;

/**
 * A pipeline directory loaded onto a device: tokenizer, text encoder, U-Net and VAE decoder. Loading
 * runs each module once on dummy inputs of a small size ({@link PipelineSpec#probeSide()}) and refuses the
 * directory if a module's output has the wrong shape, so a broken export fails at startup with the file
 * named, not on a user's request.
 */
public final class LoadedPipeline implements AutoCloseable {
    private final PipelineDirectory directory;
    private final Device device;
    private final HuggingFaceTokenizer tokenizer;
    private final TorchScriptModule textEncoder;
    private final TorchScriptModule unet;
    private final TorchScriptModule vaeDecoder;
    /** Null when the directory has no {@code vae_encoder.pt}: then the model cannot start from an image. */
    private final TorchScriptModule vaeEncoder;
    private final int hiddenSize;

    private LoadedPipeline(PipelineDirectory directory, Device device, HuggingFaceTokenizer tokenizer,
            List<TorchScriptModule> modules) {
        this.directory = directory;
        this.device = device;
        this.tokenizer = tokenizer;
        this.textEncoder = modules.get(0);
        this.unet = modules.get(1);
        this.vaeDecoder = modules.get(2);
        this.vaeEncoder = modules.size() > 3 ? modules.get(3) : null;
        this.hiddenSize = checkShapes();
    }

    public static LoadedPipeline load(PipelineDirectory directory, Device device) {
        HuggingFaceTokenizer tokenizer = loadTokenizer(directory);
        List<TorchScriptModule> modules = new ArrayList<>();
        try {
            for (String file : List.of(PipelineDirectory.TEXT_ENCODER, PipelineDirectory.UNET,
                    PipelineDirectory.VAE_DECODER)) {
                modules.add(TorchScriptModule.load(directory.root(), file, device));
            }
            if (Files.isRegularFile(directory.file(PipelineDirectory.VAE_ENCODER))) {
                modules.add(TorchScriptModule.load(directory.root(), PipelineDirectory.VAE_ENCODER, device));
            }
            return new LoadedPipeline(directory, device, tokenizer, modules);
        } catch (RuntimeException e) {
            modules.forEach(TorchScriptModule::close);
            tokenizer.close();
            throw e;
        }
    }

    private static HuggingFaceTokenizer loadTokenizer(PipelineDirectory directory) {
        try {
            return HuggingFaceTokenizer.builder()
                    .optTokenizerPath(directory.file(PipelineDirectory.TOKENIZER))
                    .optAddSpecialTokens(true)
                    .optTruncation(true)
                    .optMaxLength(directory.spec().textMaxLength())
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new ModelDirectoryException(directory.file(PipelineDirectory.TOKENIZER)
                    + ": not a HuggingFace tokenizers file: " + e.getMessage(), e);
        }
    }

    /** Runs every module once; returns the text encoder's hidden size D. */
    private int checkShapes() {
        PipelineSpec spec = directory.spec();
        int length = spec.textMaxLength();
        int channels = spec.latentChannels();
        int factor = spec.vaeScaleFactor();
        int latentSide = spec.probeSide() / factor;
        try (NDManager manager = NDManager.newBaseManager(device)) {
            NDArray hidden = encodePadding(manager, 2);
            if (hidden.getShape().dimension() != 3 || hidden.getShape().get(0) != 2
                    || hidden.getShape().get(1) != length) {
                throw wrongShape(textEncoder, hidden, "[2, " + length + ", D] for input_ids [2, " + length + "]");
            }
            int hiddenSize = Math.toIntExact(hidden.getShape().get(2));

            Shape latentShape = new Shape(2, channels, latentSide, latentSide);
            NDArray sample = manager.zeros(latentShape, DataType.FLOAT32);
            NDArray timesteps = manager.create(new float[] {999f, 1f});
            NDArray unetInput = manager.zeros(new Shape(2, spec.unetInChannelsOrDefault(), latentSide, latentSide),
                    DataType.FLOAT32);
            NDArray noise = single(unet, unetInputs(manager, unetInput, timesteps, hidden));
            if (!noise.getShape().equals(latentShape)) {
                throw wrongShape(unet, noise, latentShape + ", the shape of its input sample");
            }

            NDArray image = single(vaeDecoder, new NDList(sample.get("0:1")));
            Shape imageShape = new Shape(1, 3, latentSide * (long) factor, latentSide * (long) factor);
            if (!image.getShape().equals(imageShape)) {
                throw wrongShape(vaeDecoder, image, imageShape + " (latent size × vae_scale_factor " + factor + ")");
            }
            if (vaeEncoder != null) {
                NDArray latent = single(vaeEncoder, new NDList(image));
                if (!latent.getShape().equals(sample.get("0:1").getShape())) {
                    throw wrongShape(vaeEncoder, latent, sample.get("0:1").getShape() + " (image size / vae_scale_factor "
                            + factor + ")");
                }
            }
            return hiddenSize;
        } catch (ModelDirectoryException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new ModelDirectoryException(directory.root() + ": dry run failed: " + e.getMessage(), e);
        }
    }

    /**
     * Runs the U-Net for one guided image and the decoder for one image at the default size, so that the
     * first request does not pay for the allocations (and, on CUDA, the kernel selection) of that size.
     * Returns the milliseconds it took.
     */
    public double warmUp() {
        PipelineSpec spec = directory.spec();
        long start = System.nanoTime();
        try (NDManager manager = NDManager.newBaseManager(device)) {
            Shape latentShape = spec.latentShape(2, spec.defaultWidth(), spec.defaultHeight());
            NDArray sample = manager.zeros(latentShape, DataType.FLOAT32);
            NDArray unetInput = manager.zeros(new Shape(2, spec.unetInChannelsOrDefault(), latentShape.get(2),
                    latentShape.get(3)), DataType.FLOAT32);
            unet.forward(unetInputs(manager, unetInput, manager.create(new float[] {999f, 999f}), encodePadding(manager, 2)));
            vaeDecoder.forward(new NDList(sample.get("0:1")));
        }
        return (System.nanoTime() - start) / 1e6;
    }

    /** The U-Net's inputs, with a guidance-embedded U-Net's {@code timestep_cond} (zeros) as the fourth. */
    private NDList unetInputs(NDManager manager, NDArray sample, NDArray timesteps, NDArray hidden) {
        NDList inputs = new NDList(sample, timesteps, hidden);
        PipelineSpec spec = directory.spec();
        if (spec.guidanceEmbedded()) {
            inputs.add(manager.zeros(new Shape(sample.getShape().get(0), spec.timeCondProjDim()), DataType.FLOAT32));
        }
        return inputs;
    }

    /** The text encoder's hidden states for {@code rows} prompts of padding only. */
    private NDArray encodePadding(NDManager manager, int rows) {
        int length = directory.spec().textMaxLength();
        NDArray ids = manager.full(new Shape(rows, length), (long) directory.spec().padTokenId(), DataType.INT64);
        return single(textEncoder, new NDList(ids));
    }

    private NDArray single(TorchScriptModule module, NDList inputs) {
        NDList outputs;
        try {
            outputs = module.forward(inputs);
        } catch (RuntimeException e) {
            throw new ModelDirectoryException(directory.file(module.fileName()) + ": failed on inputs of shapes "
                    + inputs.getShapes() + ": " + e.getMessage(), e);
        }
        if (outputs.size() != 1 || outputs.head().getDataType() != DataType.FLOAT32) {
            throw new ModelDirectoryException(directory.file(module.fileName())
                    + ": must return one float32 tensor, returned " + outputs.size() + " of types "
                    + outputs.stream().map(a -> a.getDataType().toString()).toList());
        }
        return outputs.head();
    }

    private ModelDirectoryException wrongShape(TorchScriptModule module, NDArray output, String expected) {
        return new ModelDirectoryException(directory.file(module.fileName()) + ": output shape "
                + output.getShape() + " does not match the expected " + expected);
    }

    public PipelineDirectory directory() {
        return directory;
    }

    public PipelineSpec spec() {
        return directory.spec();
    }

    public Device device() {
        return device;
    }

    public HuggingFaceTokenizer tokenizer() {
        return tokenizer;
    }

    public TorchScriptModule textEncoder() {
        return textEncoder;
    }

    public TorchScriptModule unet() {
        return unet;
    }

    public TorchScriptModule vaeDecoder() {
        return vaeDecoder;
    }

    /** The VAE encoder, for image-to-image and inpainting; empty when the pipeline has none. */
    public Optional<TorchScriptModule> vaeEncoder() {
        return Optional.ofNullable(vaeEncoder);
    }

    public int hiddenSize() {
        return hiddenSize;
    }

    @Override
    public void close() {
        textEncoder.close();
        unet.close();
        vaeDecoder.close();
        if (vaeEncoder != null) {
            vaeEncoder.close();
        }
        tokenizer.close();
    }
}
