package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Runs the offline Python tools the way their READMEs say: Debian's {@code /usr/bin/python3} with
 * python3-torch. Without it the tests that need it are skipped, so that {@code mvn verify} runs with only a
 * JDK and Maven; CI installs it and sets {@value #REQUIRED}, which fails them instead.
 */
final class Exporter {
    static final String REQUIRED = "STIPPLE_PYTHON_REQUIRED";
    static final Path SD_REFERENCE = Path.of("src/test/resources/sd-reference");
    private static final Path EXPORT_COMMAND = Path.of("src/tools/export/export_diffusers.py");

    /** One export per checkpoint and JVM: the tests read the same directory. */
    private static final Map<String, Path> EXPORTS = new ConcurrentHashMap<>();

    private Exporter() {
    }

    /** {@code sd-reference/NAME/checkpoint} exported with the real command into a temporary directory. */
    static Path exported(String reference) {
        return EXPORTS.computeIfAbsent(reference, name -> {
            try {
                Path out = Files.createTempDirectory("stipple-export-").resolve(name);
                Result result = run(EXPORT_COMMAND.toString(), SD_REFERENCE.resolve(name).resolve("checkpoint").toString(),
                        out.toString(), "--name", name);
                assertEquals(0, result.exitCode(), result.output());
                return out;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    record Result(int exitCode, String output) {
    }

    /** Runs {@code python3 ARGUMENTS...} from the project root; aborts (or fails in CI) without python3-torch. */
    static Result run(String... arguments) {
        Path python = Path.of(System.getenv().getOrDefault("STIPPLE_PYTHON", "/usr/bin/python3"));
        requireTorch(python);
        List<String> command = new ArrayList<>(List.of(python.toString()));
        command.addAll(List.of(arguments));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(10, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new AssertionError("timed out: " + command + "\n" + output);
            }
            return new Result(process.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void requireTorch(Path python) {
        boolean available;
        try {
            Process probe = new ProcessBuilder(python.toString(), "-c", "import torch, numpy").redirectErrorStream(true).start();
            probe.getInputStream().readAllBytes();
            available = probe.waitFor(60, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            available = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (!available) {
            String message = python + " cannot import torch and numpy: install Debian's python3-torch (or set STIPPLE_PYTHON)";
            if (System.getenv(REQUIRED) != null) {
                throw new IllegalStateException(message);
            }
            abort(message);
        }
    }
}
