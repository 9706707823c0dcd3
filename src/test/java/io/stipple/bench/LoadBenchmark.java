package io.stipple.bench;

import ai.djl.pytorch.jni.JniUtils;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.api.GenerateRequestBody;
import io.stipple.api.RequestValidator;
import io.stipple.engine.GenerationService;
import io.stipple.model.ServedModel;
import io.stipple.model.ServedModels;
import io.stipple.testing.StippleHttp;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.pipeline.GenerationRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * Drives the real server over HTTP with 1, 2, 4, 8 and 16 concurrent clients sending each served model's
 * default request (the embedded models, PNG responses) and reports throughput, latency percentiles and the mean
 * rows per U-Net call, next to a plain serial loop over the same model in-process. Run with
 * {@code mvn test -Pbenchmark}; results go to stdout and {@code target/benchmarks/load.md}.
 */
@Tag("benchmark")
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "stipple.queue.capacity=64")
class LoadBenchmark {
    private static final int[] CONCURRENCY = {1, 2, 4, 8, 16};
    private static final Duration WARMUP = Duration.ofSeconds(2);
    private static final Duration MEASURE = Duration.ofSeconds(15);
    private static final Duration ROUND = Duration.ofSeconds(5);
    private static final int ROUNDS = 5;
    private static final String PROMPT = "a red circle on a blue background";

    @LocalServerPort
    int port;

    @Autowired
    ServedModels models;

    @Autowired
    RequestValidator validator;

    @Autowired
    MeterRegistry registry;

    @Autowired
    GenerationService service;

    @Test
    void measure() throws Exception {
        StringBuilder report = new StringBuilder();
        Map<String, Double> atEight = new LinkedHashMap<>();
        for (ServedModel model : models.all()) {
            GenerationRequest request = validator.validate(GenerateRequestBody.builder(PROMPT).seed(1L)
                    .model(model.name()).build());
            report.append(String.format("%n### %s (default request: %d steps, guidance %s, %s, %d U-Net rows per step)%n%n",
                    model.name(), request.steps(), request.guidanceScale(), request.sampler(), request.rows()));
            singleClientComparison(report, request, model);
            report.append("\n| clients | images/s | p50 ms | p90 ms | p99 ms | mean rows per U-Net call | requests |\n")
                    .append("|---|---|---|---|---|---|---|\n");
            Map<Integer, Double> throughput = new HashMap<>();
            for (int clients : CONCURRENCY) {
                Phase phase = run(clients, MEASURE, model.name());
                throughput.put(clients, phase.throughput());
                report.append(String.format("| %d | %.1f | %.1f | %.1f | %.1f | %.2f | %d |%n", clients, phase.throughput(),
                        phase.percentile(50), phase.percentile(90), phase.percentile(99), phase.meanRows(),
                        phase.latencies().size()));
            }
            report.append(String.format("%nThroughput at 8 clients / at 1 client: %.2f×%n", throughput.get(8) / throughput.get(1)));
            atEight.put(model.name(), throughput.get(8));
        }
        String first = atEight.keySet().iterator().next();
        atEight.forEach((name, images) -> {
            if (!name.equals(first)) {
                report.append(String.format("%nThroughput at 8 clients, %s / %s: %.2f×%n", name, first,
                        images / atEight.get(first)));
            }
        });
        report.append(pythonLoop());
        report.insert(0, "Machine: " + Runtime.getRuntime().availableProcessors() + " cores, libtorch intra-op threads "
                + JniUtils.getNumThreads() + ", Java " + System.getProperty("java.version") + "\n\n");
        Path out = Path.of("target/benchmarks/load.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        System.out.println(report);
    }

    /**
     * One request at a time three ways, interleaved over several rounds so that the machine's drift
     * (a shared 2-core VM) hits all three alike: the plain serial pipeline in-process, the engine
     * in-process, and the engine over HTTP. The median of the round medians is reported.
     */
    private void singleClientComparison(StringBuilder report, GenerationRequest request, ServedModel model)
            throws Exception {
        JniUtils.setGraphExecutorOptimize(false);
        GenerationPipeline pipeline = new GenerationPipeline(model.pipeline());
        List<Double> serial = new ArrayList<>();
        List<Double> engine = new ArrayList<>();
        List<Double> http = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            serial.add(median(timeLoop(() -> pipeline.generate(request, 0))));
            engine.add(median(timeLoop(() -> service.submit(request, "benchmark").completion().join())));
            http.add(run(1, ROUND, model.name()).percentile(50));
        }
        double serialMedian = median(serial);
        double engineMedian = median(engine);
        double httpMedian = median(http);
        report.append(String.format("One request at a time, p50 (median of %d interleaved rounds of %d s):%n%n", ROUNDS,
                ROUND.toSeconds()))
                .append("| path | p50 ms | vs serial loop |\n|---|---|---|\n")
                .append(String.format("| plain serial loop (GenerationPipeline in-process, PNG included) | %.1f | 1.00 |%n",
                        serialMedian))
                .append(String.format("| engine, in-process client | %.1f | %.2f |%n", engineMedian, engineMedian / serialMedian))
                .append(String.format("| engine over HTTP (1 client, PNG response) | %.1f | %.2f |%n", httpMedian,
                        httpMedian / serialMedian));
    }

    /**
     * The same models' default requests in a bare Python loop over the same .pt files (Debian's torch,
     * src/tools/bench/python_loop.py) at batches of 1, 4 and 16, right after the server's figures: the yardstick
     * for what the server adds or saves. Left out, with a note, where that Python is not installed.
     */
    private String pythonLoop() throws Exception {
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python)) {
            return "\nBare Python loop: skipped, /usr/bin/python3 (with Debian's python3-torch) is not installed.\n";
        }
        List<String> command = new ArrayList<>(List.of(python.toString(), "src/tools/bench/python_loop.py"));
        models.all().forEach(model -> command.add(model.pipeline().directory().root().toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            return "\nBare Python loop: failed:\n\n```\n" + output + "```\n";
        }
        return "\n### The same default requests in a bare Python loop (src/tools/bench/python_loop.py)\n\n" + output;
    }

    private static List<Double> timeLoop(Runnable work) {
        long warmupEnd = System.nanoTime() + WARMUP.toNanos();
        while (System.nanoTime() < warmupEnd) {
            work.run();
        }
        List<Double> millis = new ArrayList<>();
        long end = System.nanoTime() + ROUND.toNanos();
        while (System.nanoTime() < end) {
            long start = System.nanoTime();
            work.run();
            millis.add((System.nanoTime() - start) / 1e6);
        }
        return millis;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private Phase run(int clients, Duration duration, String model) throws Exception {
        HttpClient http = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(clients)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/generate"))
                .header("Content-Type", "application/json")
                .header("Accept", "image/png")
                .POST(HttpRequest.BodyPublishers.ofString(StippleHttp.body("prompt", PROMPT, "model", model)))
                .build();
        loop(http, request, clients, WARMUP, null);
        DistributionSummary rows = registry.get("stipple.batch.rows").tag("model", model).summary();
        double rowsBefore = rows.totalAmount();
        long callsBefore = rows.count();
        List<Double> latencies = Collections.synchronizedList(new ArrayList<>());
        long start = System.nanoTime();
        loop(http, request, clients, duration, latencies);
        double seconds = (System.nanoTime() - start) / 1e9;
        double meanRows = (rows.totalAmount() - rowsBefore) / Math.max(1, rows.count() - callsBefore);
        return new Phase(new ArrayList<>(latencies), seconds, meanRows);
    }

    private static void loop(HttpClient http, HttpRequest request, int clients, Duration duration,
            List<Double> latencies) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long end = System.nanoTime() + duration.toNanos();
        AtomicLong failures = new AtomicLong();
        List<Future<?>> running = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            running.add(pool.submit(() -> {
                while (System.nanoTime() < end) {
                    long start = System.nanoTime();
                    HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
                    if (response.statusCode() != 200) {
                        failures.incrementAndGet();
                    } else if (latencies != null) {
                        latencies.add((System.nanoTime() - start) / 1e6);
                    }
                }
                return null;
            }));
        }
        for (Future<?> future : running) {
            future.get();
        }
        pool.shutdown();
        if (failures.get() > 0) {
            throw new IllegalStateException(failures.get() + " requests failed");
        }
    }

    private record Phase(List<Double> latencies, double seconds, double meanRows) {
        double throughput() {
            return latencies.size() / seconds;
        }

        double percentile(int p) {
            List<Double> sorted = latencies.stream().sorted().toList();
            return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
        }
    }
}
