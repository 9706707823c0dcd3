package io.stipple.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The tiny random-weight fixture and its deliberately broken parts, and ways to copy and break it.
 * Paths are relative to the project root, which is surefire's working directory.
 */
public final class TestPipelines {
    public static final Path TINY = Path.of("src/test/resources/pipelines/tiny");
    public static final Path PARTS = Path.of("src/test/resources/pipelines/parts");

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TestPipelines() {
    }

    /** A writable copy of the tiny fixture in {@code target}. */
    public static Path copyTiny(Path target) {
        try (Stream<Path> files = Files.list(TINY)) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()));
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces {@code fileName} in {@code directory} with the broken part {@code part}. */
    public static void swapIn(Path directory, String part, String fileName) {
        try {
            Files.copy(PARTS.resolve(part), directory.resolve(fileName), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Rewrites the JSON object in {@code directory/fileName}. */
    public static void editJson(Path directory, String fileName, UnaryOperator<ObjectNode> edit) {
        Path file = directory.resolve(fileName);
        ObjectNode edited = edit.apply((ObjectNode) JSON.readTree(file.toFile()));
        JSON.writeValue(file.toFile(), edited);
    }

    public static void write(Path directory, String fileName, String content) {
        try {
            Files.writeString(directory.resolve(fileName), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
