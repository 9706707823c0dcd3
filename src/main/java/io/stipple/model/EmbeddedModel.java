package io.stipple.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.springframework.core.io.ClassPathResource;

/**
 * The default pipeline shipped inside the application. libtorch loads files, not classpath streams,
 * so the directory is copied out to a temporary directory that is removed when the JVM exits.
 */
public final class EmbeddedModel {
    static final String LOCATION = "stipple/default-model/";

    private EmbeddedModel() {
    }

    public static Path extract() {
        try {
            Path directory = Files.createTempDirectory("stipple-default-model-");
            directory.toFile().deleteOnExit();
            for (String name : PipelineDirectory.REQUIRED) {
                copy(new ClassPathResource(LOCATION + name), directory.resolve(name));
            }
            for (String name : PipelineDirectory.OPTIONAL) {
                ClassPathResource resource = new ClassPathResource(LOCATION + name);
                if (resource.exists()) {
                    copy(resource, directory.resolve(name));
                }
            }
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the embedded default model", e);
        }
    }

    private static void copy(ClassPathResource resource, Path target) throws IOException {
        try (InputStream in = resource.getInputStream()) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().deleteOnExit();
    }
}
