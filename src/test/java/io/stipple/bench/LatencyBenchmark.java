package io.stipple.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.ServedModels;
import io.stipple.model.TorchScriptModule;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Latency of the default request per stage over real HTTP, and what a U-Net call costs through DJL.
 * Run with {@code mvn test -Pbenchmark}; results go to stdout and {@code target/benchmarks/latency.md}.
 * Medians of repeated runs, never pass/fail: timings on a shared 2-core machine are noisy.
 */
@Tag("benchmark")
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class LatencyBenchmark {
    private static final int HTTP_WARMUP = 5;
    private static final int HTTP_RUNS = 30;
    private static final int CALL_WARMUP = 30;
    private static final int CALL_RUNS = 300;

    @LocalServerPort
    int port;

    @Autowired
    ServedModels served;

    private final StringBuilder report = new StringBuilder();

    @Test
    void measure() throws Exception {
        report.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(cpuModel()).append(", Java ").append(System.getProperty("java.version"))
                .append(", libtorch intra-op threads ").append(JniUtils.getNumThreads()).append("\n\n");
        stageLatency();
        unetCalls();
        Path out = Path.of("target/benchmarks/latency.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        System.out.println(report);
    }

    private void stageLatency() throws Exception {
        HttpClient client = HttpClient.newHttpClient();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/generate"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"a red circle on a blue background\",\"seed\":7}"))
                .build();
        JsonMapper json = JsonMapper.builder().build();
        Map<String, List<Double>> stages = new LinkedHashMap<>();
        for (int i = 0; i < HTTP_WARMUP + HTTP_RUNS; i++) {
            long start = System.nanoTime();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            double clientMillis = (System.nanoTime() - start) / 1e6;
            if (response.statusCode() != 200) {
                throw new IllegalStateException("benchmark request failed: " + response.body());
            }
            if (i < HTTP_WARMUP) {
                continue;
            }
            JsonNode timings = json.readTree(response.body()).get("timings_ms");
            for (String stage : List.of("queue", "text_encoding", "denoising", "decoding", "png_encoding", "total")) {
                stages.computeIfAbsent(stage, k -> new ArrayList<>()).add(timings.get(stage).asDouble());
            }
            stages.computeIfAbsent("end-to-end over HTTP (client)", k -> new ArrayList<>()).add(clientMillis);
        }
        report.append("### Default request, per stage (median of ").append(HTTP_RUNS).append(" runs)\n\n")
                .append("| stage | ms |\n|---|---|\n");
        stages.forEach((stage, values) -> report.append("| ").append(stage).append(" | ")
                .append(format(median(values))).append(" |\n"));
        report.append('\n');
    }

    private void unetCalls() throws IOException {
        Path identityDir = Path.of("src/test/resources/bench");
        try (TorchScriptModule identity = TorchScriptModule.load(identityDir, "identity_unet.pt", Device.cpu())) {
            report.append("### One U-Net call through DJL (median ms of ").append(CALL_RUNS).append(" calls)\n\n")
                    .append("| rows | default U-Net, optimizer off | optimizer on | identity module (overhead) |\n")
                    .append("|---|---|---|---|\n");
            for (int rows : new int[] {1, 2, 4, 8, 16}) {
                double off = callMillis(models().unet(), false, rows);
                double on = callMillis(models().unet(), true, rows);
                double overhead = callMillis(identity, false, rows);
                report.append("| ").append(rows).append(" | ").append(format(off)).append(" | ").append(format(on))
                        .append(" | ").append(format(overhead)).append(" |\n");
            }
            report.append("\nRows cycling 1, 2, …, 8 from call to call (new shapes every call): optimizer off ")
                    .append(format(cyclingMillis(false))).append(" ms, on ").append(format(cyclingMillis(true)))
                    .append(" ms per call.\n");
        } finally {
            JniUtils.setGraphExecutorOptimize(false);
        }
    }

    private double callMillis(TorchScriptModule module, boolean optimize, int rows) {
        JniUtils.setGraphExecutorOptimize(optimize);
        List<Double> times = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDList inputs = unetInputs(manager, rows);
            for (int i = 0; i < CALL_WARMUP + CALL_RUNS; i++) {
                long start = System.nanoTime();
                module.forward(inputs).close();
                if (i >= CALL_WARMUP) {
                    times.add((System.nanoTime() - start) / 1e6);
                }
            }
        }
        return median(times);
    }

    private double cyclingMillis(boolean optimize) {
        JniUtils.setGraphExecutorOptimize(optimize);
        List<Double> times = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            List<NDList> inputs = new ArrayList<>();
            for (int rows = 1; rows <= 8; rows++) {
                inputs.add(unetInputs(manager, rows));
            }
            for (int i = 0; i < CALL_WARMUP + CALL_RUNS; i++) {
                long start = System.nanoTime();
                models().unet().forward(inputs.get(i % inputs.size())).close();
                if (i >= CALL_WARMUP) {
                    times.add((System.nanoTime() - start) / 1e6);
                }
            }
        }
        return median(times);
    }

    private NDList unetInputs(NDManager manager, int rows) {
        var spec = models().spec();
        int factor = spec.vaeScaleFactor();
        NDArray sample = manager.randomNormal(new Shape(rows, spec.latentChannels(),
                spec.defaultHeight() / factor, spec.defaultWidth() / factor));
        NDArray timesteps = manager.full(new Shape(rows), 500f);
        NDArray context = manager.randomNormal(new Shape(rows, spec.textMaxLength(), models().hiddenSize()));
        return new NDList(sample, timesteps, context);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static String format(double millis) {
        return String.format("%.3f", millis);
    }

    private static String cpuModel() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                .filter(line -> line.startsWith("model name"))
                .map(line -> line.substring(line.indexOf(':') + 1).trim())
                .findFirst().orElse("unknown CPU");
    }

    /** The model the server serves by default: the one this test is about. */
    private LoadedPipeline models() {
        return served.defaultModel().pipeline();
    }
}
