package io.stipple.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.io.ClassPathResource;

/**
 * The pipelines shipped inside the application, the default model first. libtorch loads files, not classpath
 * streams, so each directory is copied out to a temporary directory that is removed when the JVM exits.
 */
public final class EmbeddedModel {
    static final List<String> LOCATIONS = List.of("stipple/default-model/", "stipple/shapes-lcm/");

    private EmbeddedModel() {
    }

    public static List<Path> extractAll() {
        List<Path> directories = new ArrayList<>();
        for (String location : LOCATIONS) {
            if (new ClassPathResource(location + PipelineDirectory.PIPELINE).exists()) {
                directories.add(extract(location));
            }
        }
        return directories;
    }

    private static Path extract(String location) {
        try {
            Path directory = Files.createTempDirectory("stipple-embedded-model-");
            directory.toFile().deleteOnExit();
            for (String name : PipelineDirectory.REQUIRED) {
                copy(new ClassPathResource(location + name), directory.resolve(name));
            }
            for (String name : PipelineDirectory.OPTIONAL) {
                ClassPathResource resource = new ClassPathResource(location + name);
                if (resource.exists()) {
                    copy(resource, directory.resolve(name));
                }
            }
            return directory;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot extract the embedded model " + location, e);
        }
    }

    private static void copy(ClassPathResource resource, Path target) throws IOException {
        try (InputStream in = resource.getInputStream()) {
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        target.toFile().deleteOnExit();
    }
}
