package io.stipple.model;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.StippleApplication;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.core.NestedExceptionUtils;

/** A broken model directory stops the application at startup, and the reason at the bottom names the file. */
class BrokenModelStartupTest {
    @TempDir
    Path directory;

    @BeforeEach
    void copyFixture() {
        TestPipelines.copyTiny(directory);
    }

    private Throwable startupFailure() {
        SpringApplicationBuilder application = new SpringApplicationBuilder(StippleApplication.class)
                .properties("stipple.model-dir=" + directory, "stipple.embedded-models=false", "server.port=0");
        Exception e = assertThrows(Exception.class, () -> application.run());
        return NestedExceptionUtils.getRootCause(e);
    }

    @Test
    void missingFileStopsStartup() throws IOException {
        Files.delete(directory.resolve("vae_decoder.pt"));

        Throwable cause = assertInstanceOf(ModelDirectoryException.class, startupFailure());
        assertTrue(cause.getMessage().contains(directory.resolve("vae_decoder.pt") + ": required file is missing"),
                cause.getMessage());
    }

    @Test
    void moduleOfTheWrongShapeStopsStartup() {
        TestPipelines.swapIn(directory, "unet_wrong_channels.pt", PipelineDirectory.UNET);

        Throwable cause = assertInstanceOf(ModelDirectoryException.class, startupFailure());
        assertTrue(cause.getMessage().contains(directory.resolve("unet.pt") + ": output shape (2, 3, 8, 8)"),
                cause.getMessage());
    }
}
