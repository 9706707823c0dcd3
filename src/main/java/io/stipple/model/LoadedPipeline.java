package io.stipple.model;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A pipeline directory loaded onto a device: tokenizer(s), text encoder(s), U-Net and VAE. Loading runs each
 * module once on dummy inputs of a small size ({@link DryRun}) and refuses the directory if a module's output has
 * the wrong shape, so a broken export fails at startup with the file named, not on a user's request.
 */
public final class LoadedPipeline implements AutoCloseable {
    private final PipelineDirectory directory;
    private final Device device;
    /** One per text encoder, in the order of the encoders. */
    private final List<HuggingFaceTokenizer> tokenizers;
    /** By file name. */
    private final Map<String, TorchScriptModule> modules;
    private final DryRun.TextSizes textSizes;

    private LoadedPipeline(PipelineDirectory directory, Device device, List<HuggingFaceTokenizer> tokenizers,
            Map<String, TorchScriptModule> modules, DryRun.TextSizes textSizes) {
        this.directory = directory;
        this.device = device;
        this.tokenizers = List.copyOf(tokenizers);
        this.modules = modules;
        this.textSizes = textSizes;
    }

    public static LoadedPipeline load(PipelineDirectory directory, Device device) {
        PipelineSpec spec = directory.spec();
        List<HuggingFaceTokenizer> tokenizers = new ArrayList<>();
        Map<String, TorchScriptModule> modules = new LinkedHashMap<>();
        try {
            tokenizers.add(loadTokenizer(directory, PipelineDirectory.TOKENIZER));
            List<String> files = new ArrayList<>(List.of(PipelineDirectory.TEXT_ENCODER, PipelineDirectory.UNET,
                    PipelineDirectory.VAE_DECODER));
            if (spec.twoTextEncoders()) {
                tokenizers.add(loadTokenizer(directory, PipelineDirectory.TOKENIZER_2));
                files.add(PipelineDirectory.TEXT_ENCODER_2);
            }
            if (Files.isRegularFile(directory.file(PipelineDirectory.VAE_ENCODER))) {
                files.add(PipelineDirectory.VAE_ENCODER);
            }
            for (String file : files) {
                modules.put(file, TorchScriptModule.load(directory.root(), file, device));
            }
            return new LoadedPipeline(directory, device, tokenizers, modules, new DryRun(directory, device, modules).check());
        } catch (RuntimeException e) {
            modules.values().forEach(TorchScriptModule::close);
            tokenizers.forEach(HuggingFaceTokenizer::close);
            throw e;
        }
    }

    private static HuggingFaceTokenizer loadTokenizer(PipelineDirectory directory, String file) {
        try {
            return HuggingFaceTokenizer.builder()
                    .optTokenizerPath(directory.file(file))
                    .optAddSpecialTokens(true)
                    .optTruncation(true)
                    .optMaxLength(directory.spec().textMaxLength())
                    .optPadding(false)
                    .build();
        } catch (IOException | RuntimeException e) {
            throw new ModelDirectoryException(directory.file(file) + ": not a HuggingFace tokenizers file: "
                    + e.getMessage(), e);
        }
    }

    /**
     * Runs the U-Net for one guided image and the decoder for one image at the default size, so that the
     * first request does not pay for the allocations (and, on CUDA, the kernel selection) of that size.
     * Returns the milliseconds it took.
     */
    public double warmUp() {
        return new DryRun(directory, device, modules).warmUp();
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

    /** The tokenizers, one per text encoder: two for SDXL. */
    public List<HuggingFaceTokenizer> tokenizers() {
        return tokenizers;
    }

    public HuggingFaceTokenizer tokenizer() {
        return tokenizers.get(0);
    }

    public TorchScriptModule textEncoder() {
        return modules.get(PipelineDirectory.TEXT_ENCODER);
    }

    /** The second text encoder, which also gives the pooled text embeddings; empty but for SDXL. */
    public Optional<TorchScriptModule> textEncoder2() {
        return Optional.ofNullable(modules.get(PipelineDirectory.TEXT_ENCODER_2));
    }

    public TorchScriptModule unet() {
        return modules.get(PipelineDirectory.UNET);
    }

    public TorchScriptModule vaeDecoder() {
        return modules.get(PipelineDirectory.VAE_DECODER);
    }

    /** The VAE encoder, for image-to-image and inpainting; empty when the pipeline has none. */
    public Optional<TorchScriptModule> vaeEncoder() {
        return Optional.ofNullable(modules.get(PipelineDirectory.VAE_ENCODER));
    }

    /** D: the width of the hidden states the U-Net attends to (both encoders' together for SDXL). */
    public int hiddenSize() {
        return textSizes.hidden();
    }

    /** P: the width of the pooled text embeddings an SDXL U-Net takes; 0 for a pipeline without them. */
    public int pooledSize() {
        return textSizes.pooled();
    }

    @Override
    public void close() {
        modules.values().forEach(TorchScriptModule::close);
        tokenizers.forEach(HuggingFaceTokenizer::close);
    }
}
