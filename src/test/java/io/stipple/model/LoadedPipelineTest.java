package io.stipple.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Loading a directory's modules with libtorch: the dry run refuses modules of the wrong shape, naming the file. */
class LoadedPipelineTest {
    @TempDir
    Path directory;

    @BeforeEach
    void copyFixture() {
        TestPipelines.copyTiny(directory);
    }

    private ModelDirectoryException loadFails() {
        PipelineDirectory opened = PipelineDirectory.open(directory);
        return assertThrows(ModelDirectoryException.class, () -> LoadedPipeline.load(opened, Device.cpu()));
    }

    @Test
    void loadsTheTinyFixture() {
        try (LoadedPipeline pipeline = LoadedPipeline.load(PipelineDirectory.open(directory), Device.cpu())) {
            assertEquals(32, pipeline.hiddenSize());
            assertEquals("tiny-fixture", pipeline.spec().name());
            assertEquals(Device.cpu(), pipeline.device());
            assertEquals(PipelineDirectory.UNET, pipeline.unet().fileName());
        }
    }

    // The dry run feeds input_ids [2, 16] and latents [2, 4, 8, 8] (the fixture's 64 × 64 default).
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "unet_wrong_channels.pt      | unet.pt         | output shape (2, 3, 8, 8) does not match the expected (2, 4, 8, 8)",
            "vae_decoder_wrong_scale.pt  | vae_decoder.pt  | output shape (1, 3, 32, 32) does not match the expected (1, 3, 64, 64)",
            "text_encoder_wrong_rank.pt  | text_encoder.pt | output shape (2, 32) does not match the expected [2, 16, D]"})
    void moduleOfTheWrongShapeIsRefused(String part, String fileName, String messagePart) {
        TestPipelines.swapIn(directory, part, fileName);

        ModelDirectoryException e = loadFails();
        assertTrue(e.getMessage().startsWith(directory.resolve(fileName) + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    @Test
    void fileThatIsNotTorchScriptIsRefused() {
        TestPipelines.write(directory, PipelineDirectory.UNET, "not a TorchScript archive");

        ModelDirectoryException e = loadFails();
        assertTrue(e.getMessage().startsWith(directory.resolve("unet.pt") + ": cannot be loaded as TorchScript"),
                e.getMessage());
    }

    /** A file cut short (an interrupted copy, a full disk) stops start-up with that file named, whichever it is. */
    @ParameterizedTest
    @ValueSource(strings = {PipelineDirectory.PIPELINE, PipelineDirectory.SCHEDULER, PipelineDirectory.TOKENIZER,
            PipelineDirectory.TEXT_ENCODER, PipelineDirectory.UNET, PipelineDirectory.VAE_DECODER})
    void truncatedFileIsRefusedByName(String fileName) throws IOException {
        Path file = directory.resolve(fileName);
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length / 2));

        ModelDirectoryException e = assertThrows(ModelDirectoryException.class,
                () -> LoadedPipeline.load(PipelineDirectory.open(directory), Device.cpu()).close());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    }

    /** Bytes flipped in the middle of a TorchScript archive (a bad disk or download). */
    @ParameterizedTest
    @ValueSource(strings = {PipelineDirectory.TEXT_ENCODER, PipelineDirectory.UNET, PipelineDirectory.VAE_DECODER})
    void corruptModuleIsRefusedByName(String fileName) throws IOException {
        Path file = directory.resolve(fileName);
        byte[] bytes = Files.readAllBytes(file);
        for (int i = bytes.length / 3; i < bytes.length / 3 + 4096 && i < bytes.length; i++) {
            bytes[i] = (byte) ~bytes[i];
        }
        for (int i = 0; i < 64; i++) {
            bytes[bytes.length - 1 - i] = 0;
        }
        Files.write(file, bytes);

        ModelDirectoryException e = assertThrows(ModelDirectoryException.class,
                () -> LoadedPipeline.load(PipelineDirectory.open(directory), Device.cpu()).close());
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
    }

    @Test
    void garbageTokenizerIsRefused() {
        TestPipelines.write(directory, PipelineDirectory.TOKENIZER, "{\"version\": \"1.0\", \"model\": 42}");

        ModelDirectoryException e = loadFails();
        assertTrue(e.getMessage().startsWith(directory.resolve("tokenizer.json") + ": not a HuggingFace tokenizers file"),
                e.getMessage());
    }
}
