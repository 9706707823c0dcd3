package io.stipple.model;

import io.stipple.sampling.SchedulerConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * A pipeline directory (see docs/pipeline-format.md) whose files are present and whose JSON parses and
 * validates. Opening one touches no model weights; {@link LoadedPipeline} does that.
 */
public record PipelineDirectory(Path root, PipelineSpec spec, SchedulerConfig scheduler) {
    public static final String PIPELINE = "pipeline.json";
    public static final String SCHEDULER = "scheduler_config.json";
    public static final String TOKENIZER = "tokenizer.json";
    public static final String TEXT_ENCODER = "text_encoder.pt";
    public static final String UNET = "unet.pt";
    public static final String VAE_DECODER = "vae_decoder.pt";
    public static final String VAE_ENCODER = "vae_encoder.pt";
    public static final String TOKENIZER_2 = "tokenizer_2.json";
    public static final String TEXT_ENCODER_2 = "text_encoder_2.pt";
    static final List<String> REQUIRED = List.of(PIPELINE, SCHEDULER, TOKENIZER, TEXT_ENCODER, UNET, VAE_DECODER);
    static final List<String> OPTIONAL = List.of(VAE_ENCODER);

    private static final JsonMapper PIPELINE_READER = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();
    // diffusers writes _class_name, _diffusers_version and keys of other schedulers into the same file.
    private static final JsonMapper SCHEDULER_READER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static PipelineDirectory open(Path root) {
        if (!Files.isDirectory(root)) {
            throw new ModelDirectoryException("model directory " + root + " does not exist or is not a directory");
        }
        for (String name : REQUIRED) {
            if (!Files.isRegularFile(root.resolve(name))) {
                throw new ModelDirectoryException(root.resolve(name) + ": required file is missing");
            }
        }
        PipelineSpec spec = read(PIPELINE_READER, root.resolve(PIPELINE), PipelineSpec.class);
        SchedulerConfig scheduler = read(SCHEDULER_READER, root.resolve(SCHEDULER), SchedulerConfig.class);
        try {
            spec.validate();
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(root.resolve(PIPELINE) + ": " + e.getMessage(), e);
        }
        if (spec.twoTextEncoders()) {
            for (String name : List.of(TOKENIZER_2, TEXT_ENCODER_2)) {
                if (!Files.isRegularFile(root.resolve(name))) {
                    throw new ModelDirectoryException(root.resolve(name) + ": required by pad_token_id_2 (a second "
                            + "text encoder), but missing");
                }
            }
        }
        if (spec.inpaintingUnet() && !Files.isRegularFile(root.resolve(VAE_ENCODER))) {
            throw new ModelDirectoryException(root.resolve(VAE_ENCODER) + ": an inpainting U-Net (unet_in_channels "
                    + spec.unetInChannels() + ") needs the VAE encoder, for the masked image's latent");
        }
        try {
            scheduler.validate();
        } catch (IllegalArgumentException e) {
            throw new ModelDirectoryException(root.resolve(SCHEDULER) + ": " + e.getMessage(), e);
        }
        return new PipelineDirectory(root, spec, scheduler);
    }

    public Path file(String name) {
        return root.resolve(name);
    }

    private static <T> T read(JsonMapper mapper, Path file, Class<T> type) {
        try {
            T value = mapper.readValue(file.toFile(), type);
            if (value == null) {
                throw new ModelDirectoryException(file + ": expected a JSON object, found null");
            }
            return value;
        } catch (JacksonException e) {
            throw new ModelDirectoryException(file + ": " + e.getOriginalMessage(), e);
        }
    }
}
