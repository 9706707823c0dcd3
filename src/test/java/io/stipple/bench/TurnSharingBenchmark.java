package io.stipple.bench;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.stipple.testing.StippleHttp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * What a flood of requests for one model costs another model's requests: the two embedded models share the device
 * turn by turn ({@code ComputeTurns}), so a request for {@code stipple-shapes-lcm} should wait, per turn of its own,
 * for at most one turn of the flooded {@code stipple-shapes}. Sends REQUESTS sequential default requests for the
 * LCM alone, then again while CLIENTS clients flood the other model, and reports the latencies beside the flooded
 * model's turn. Run with {@code mvn test -Pbenchmark -Dtest=TurnSharingBenchmark}; results go to stdout and
 * {@code target/benchmarks/turn-sharing.md}.
 */
@Tag("benchmark")
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "stipple.queue.capacity=64")
class TurnSharingBenchmark {
    private static final String MEASURED = "stipple-shapes-lcm";
    private static final String FLOODED = "stipple-shapes";
    private static final int CLIENTS = 8;
    private static final int REQUESTS = 60;
    private static final String PROMPT = "a red circle on a blue background";

    @LocalServerPort
    int port;

    @Autowired
    MeterRegistry registry;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void measure() throws Exception {
        latencies(REQUESTS / 4);
        List<Double> alone = latencies(REQUESTS);

        AtomicBoolean flooding = new AtomicBoolean(true);
        ExecutorService flood = Executors.newFixedThreadPool(CLIENTS);
        List<Future<?>> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(flood.submit(() -> {
                while (flooding.get()) {
                    send(FLOODED);
                }
                return null;
            }));
        }
        Timer steps = registry.get("stipple.step.duration").tag("model", FLOODED).timer();
        latencies(REQUESTS / 4);
        long stepsBefore = steps.count();
        double stepNanosBefore = steps.totalTime(TimeUnit.NANOSECONDS);
        List<Double> flooded = latencies(REQUESTS);
        double floodStepMillis = (steps.totalTime(TimeUnit.NANOSECONDS) - stepNanosBefore) / 1e6
                / Math.max(1, steps.count() - stepsBefore);
        flooding.set(false);
        for (Future<?> client : clients) {
            client.get();
        }
        flood.shutdown();

        String report = String.format("""
                | %s default request | p50 ms | p90 ms |
                |---|---|---|
                | alone | %.1f | %.1f |
                | while %d clients flood %s | %.1f | %.1f |

                The flooded model's U-Net step meanwhile: %.1f ms on average (rows per call as its batches fill).
                """, MEASURED, percentile(alone, 50), percentile(alone, 90), CLIENTS, FLOODED,
                percentile(flooded, 50), percentile(flooded, 90), floodStepMillis);
        System.out.println(report);
        Path out = Path.of("target/benchmarks/turn-sharing.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
    }

    private List<Double> latencies(int requests) throws Exception {
        List<Double> latencies = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            long start = System.nanoTime();
            send(MEASURED);
            latencies.add((System.nanoTime() - start) / 1e6);
        }
        return latencies;
    }

    private void send(String model) throws Exception {
        HttpResponse<byte[]> response = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/generate"))
                .header("Content-Type", "application/json").header("Accept", "image/png")
                .POST(HttpRequest.BodyPublishers.ofString(StippleHttp.body("prompt", PROMPT, "model", model))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(model + " answered " + response.statusCode() + ": "
                    + new String(response.body()));
        }
    }

    private static double percentile(List<Double> values, int p) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }
}
