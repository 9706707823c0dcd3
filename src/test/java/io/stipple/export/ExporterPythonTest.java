package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The exporter's own tests (src/tools/export/tests: goldens in Python, refusals of unsupported checkpoints by
 * config key, strict weight loading, float16 graphs, safetensors), run by {@code mvn verify} like every other
 * test so that one command checks the whole repository.
 */
class ExporterPythonTest {
    @Test
    void exporterTestsPass() {
        Exporter.Result result = Exporter.run("-m", "unittest", "discover", "-s", "src/tools/export/tests");
        assertEquals(0, result.exitCode(), result.output());
        System.out.println(result.output().lines().filter(line -> line.startsWith("Ran ") || line.startsWith("OK"))
                .toList());
    }
}
