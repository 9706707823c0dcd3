package io.stipple.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.node.ObjectNode;

/** Opening a pipeline directory: every missing file and bad JSON value is refused with the file named. */
class PipelineDirectoryTest {
    @TempDir
    Path directory;

    @BeforeEach
    void copyFixture() {
        TestPipelines.copyTiny(directory);
    }

    private void assertRefused(String fileName, String messagePart) {
        ModelDirectoryException e = assertThrows(ModelDirectoryException.class,
                () -> PipelineDirectory.open(directory));
        assertTrue(e.getMessage().startsWith(directory.resolve(fileName).toString()), e.getMessage());
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    @Test
    void opensTheTinyFixture() {
        PipelineDirectory opened = PipelineDirectory.open(directory);

        assertEquals(directory, opened.root());
        assertEquals("tiny-fixture", opened.spec().name());
        assertEquals(4, opened.spec().latentChannels());
        assertEquals(16, opened.spec().textMaxLength());
        assertEquals(1000, opened.scheduler().trainTimesteps());
        assertEquals(directory.resolve("unet.pt"), opened.file(PipelineDirectory.UNET));
    }

    @Test
    void sizeMultipleDefaultsToTheVaeScaleFactor() {
        assertEquals(8, PipelineDirectory.open(directory).spec().sizeMultipleOrDefault());
        TestPipelines.editJson(directory, PipelineDirectory.PIPELINE,
                spec -> spec.put("size_multiple", 16).put("default_width", 48).put("default_height", 16));
        assertEquals(16, PipelineDirectory.open(directory).spec().sizeMultipleOrDefault());
    }

    @Test
    void missingDirectoryIsRefused() {
        Path absent = directory.resolve("absent");
        ModelDirectoryException e = assertThrows(ModelDirectoryException.class, () -> PipelineDirectory.open(absent));
        assertTrue(e.getMessage().contains(absent + " does not exist"), e.getMessage());
    }

    @Test
    void missingModuleIsNamed() throws IOException {
        Files.delete(directory.resolve("unet.pt"));
        assertRefused("unet.pt", "required file is missing");
    }

    static Stream<Arguments> brokenSpecs() {
        return Stream.of(
                broken("wrong format", spec -> spec.put("format", "stipple-pipeline/2"),
                        "format must be \"stipple-pipeline/1\", got \"stipple-pipeline/2\""),
                broken("missing latent_channels", spec -> spec.without("latent_channels"),
                        "latent_channels must be a positive integer, got null"),
                broken("width not a multiple of vae_scale_factor", spec -> spec.put("default_width", 60),
                        "default_width must be a multiple of vae_scale_factor 8, got 60"),
                broken("size_multiple not a multiple of vae_scale_factor", spec -> spec.put("size_multiple", 12),
                        "size_multiple must be a positive multiple of vae_scale_factor 8, got 12"),
                broken("width not a multiple of size_multiple", spec -> spec.put("size_multiple", 64).put("default_width", 32),
                        "default_width must be a multiple of size_multiple 64, got 32"),
                broken("negative pad_token_id", spec -> spec.put("pad_token_id", -1),
                        "pad_token_id must be a non-negative integer, got -1"),
                broken("unknown key", spec -> spec.put("latent_chanels", 4), "latent_chanels"));
    }

    private static Arguments broken(String name, UnaryOperator<ObjectNode> edit, String messagePart) {
        return Arguments.of(name, edit, messagePart);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenSpecs")
    void brokenPipelineJsonIsRefused(String name, UnaryOperator<ObjectNode> edit, String messagePart) {
        TestPipelines.editJson(directory, PipelineDirectory.PIPELINE, edit);
        assertRefused("pipeline.json", messagePart);
    }

    @Test
    void everyProblemOfPipelineJsonIsListedAtOnce() {
        TestPipelines.editJson(directory, PipelineDirectory.PIPELINE,
                spec -> spec.without("name").put("scaling_factor", 0).put("default_steps", 0));
        assertRefused("pipeline.json",
                "name is required; scaling_factor must be a positive number, got 0.0; default_steps must be at least 1");
    }

    @Test
    void malformedPipelineJsonIsRefused() {
        TestPipelines.write(directory, PipelineDirectory.PIPELINE, "{\"format\": \"stipple-pipeline/1\",");
        assertRefused("pipeline.json", "end-of-input");
    }

    @Test
    void nullPipelineJsonIsRefused() {
        TestPipelines.write(directory, PipelineDirectory.PIPELINE, "null");
        assertRefused("pipeline.json", "expected a JSON object, found null");
    }

    @Test
    void unknownBetaScheduleIsRefused() {
        TestPipelines.editJson(directory, PipelineDirectory.SCHEDULER, config -> config.put("beta_schedule", "cosine"));
        assertRefused("scheduler_config.json",
                "beta_schedule must be linear, scaled_linear or squaredcos_cap_v2, got \"cosine\"");
    }

    @Test
    void schedulerConfigMayCarryOtherSchedulersKeys() {
        // diffusers saves one scheduler_config.json for whichever scheduler class the pipeline was built with.
        TestPipelines.editJson(directory, PipelineDirectory.SCHEDULER,
                config -> config.put("use_karras_sigmas", true).put("_diffusers_version", "0.30.0"));
        assertEquals("tiny-fixture", PipelineDirectory.open(directory).spec().name());
    }
}
