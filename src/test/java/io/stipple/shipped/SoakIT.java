package io.stipple.shipped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.shipped.SoakSample.Series;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A soak of the jar as shipped: {@code soak.requests} requests (10,000) from {@code soak.concurrency} clients
 * (8) in the mix of {@link SoakScenario}, while {@link ServerResources} samples the process every
 * {@code soak.sample-seconds} (5). After the warm-up (the first fifth of the requests), resident memory,
 * heap after GC, live threads and live NDArrays must each stay within 5% ({@link SoakDrift}); every request
 * must get the answer the API promises for it, none may hang, and the server's log must have no error.
 * When idle again, the server holds as many NDArrays as before the first request.
 *
 * <p>Run with {@code mvn verify -Psoak}; {@code -Dsoak.requests=300 -Dsoak.sample-seconds=1} is a quick
 * try. The samples go to {@code target/soak/samples.csv} and their plot to {@code target/soak/soak.svg};
 * {@code -Dsoak.plot-into=docs/reliability} also writes the plot there, for docs/RELIABILITY.md.
 */
@Tag("soak")
class SoakIT {
    private static final double TOLERANCE = 0.05;
    private static final double WARMUP_SHARE = 0.2;
    /** Far beyond any scenario's own timeouts (60 s per call or job): a scenario running this long hangs. */
    private static final Duration HANG = Duration.ofMinutes(3);
    private static final Duration IDLE_PATIENCE = Duration.ofSeconds(40);
    private static final Path OUTPUT = Path.of("target", "soak");
    private static final long SCHEDULE_SEED = 20_260_111L;

    private final int requests = Integer.getInteger("soak.requests", 10_000);
    private final int concurrency = Integer.getInteger("soak.concurrency", 8);
    private final Duration sampleEvery = Duration.ofSeconds(Integer.getInteger("soak.sample-seconds", 5));

    private final Map<String, LongAdder> outcomes = new ConcurrentHashMap<>();
    private final Queue<String> failures = new ConcurrentLinkedQueue<>();
    /** Start times of the scenarios being played, by request index. */
    private final Map<Integer, Long> inFlight = new ConcurrentHashMap<>();
    private final AtomicInteger finished = new AtomicInteger();
    private final List<SoakSample> samples = new ArrayList<>();

    @Test
    void resourcesStayFlatAndEveryRequestIsAnsweredAsPromised() throws Exception {
        // The finished jobs the server keeps are part of what it holds: with the default retention (10 min)
        // their number grows for the first ten minutes of load, which is bounded by design (and by
        // stipple.jobs.results-budget), not a leak. A one-minute retention reaches that plateau in warm-up.
        try (ShippedJar jar = ShippedJar.start("--stipple.jobs.retention=60s");
                ServerResources resources = ServerResources.of(jar)) {
            double idleNdArraysBefore = resources.metric("stipple.ndarrays.live");
            List<SoakScenario> schedule = SoakScenario.schedule(requests, SCHEDULE_SEED);
            SoakClient client = new SoakClient(jar.http, jar.port);

            long start = System.nanoTime();
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleWithFixedDelay(() -> sample(resources, start), 0, sampleEvery.toMillis(),
                    TimeUnit.MILLISECONDS);
            runLoad(client, schedule, jar);
            double seconds = secondsSince(start);
            sampler.shutdown();
            assertTrue(sampler.awaitTermination(1, TimeUnit.MINUTES));
            sample(resources, start);

            awaitIdle(resources);
            double idleNdArraysAfter = resources.metric("stipple.ndarrays.live");
            double cancellations = resources.metric("stipple.cancellations");

            // Steady: past warm-up, and before the last requests, when clients start running out of work.
            List<SoakSample> steady = samples.stream().filter(sample -> sample.requests() >= requests * WARMUP_SHARE
                    && sample.requests() < requests - concurrency).toList();
            double warmupSeconds = steady.isEmpty() ? seconds : steady.get(0).seconds();
            Map<Series, SoakDrift> drifts = new EnumMap<>(Series.class);
            for (Series series : Series.values()) {
                drifts.put(series, SoakDrift.of(series, steady));
            }
            String summary = summary(seconds, drifts, idleNdArraysBefore, idleNdArraysAfter, cancellations);
            System.out.println(summary);
            publish(summary, warmupSeconds, drifts);

            assertTrue(failures.isEmpty(), failures.size() + " requests got answers the API does not promise, first: "
                    + failures.stream().limit(10).collect(Collectors.joining("\n")));
            drifts.values().forEach(drift -> assertTrue(Math.abs(drift.percent()) <= TOLERANCE * 100,
                    drift + " after warm-up, beyond ±" + TOLERANCE * 100 + "%"));
            assertEquals(idleNdArraysBefore, idleNdArraysAfter, "NDArrays left behind once the server is idle again");
            double abandoned = count(SoakScenario.SYNC_DISCONNECTED, "left unanswered");
            double deleted = count(SoakScenario.JOB_CANCELLED, "cancelled while queued")
                    + count(SoakScenario.JOB_CANCELLED, "cancelled while running");
            // A long request may still finish between its client's leaving and the server's next look (4 a second).
            assertTrue(cancellations - deleted >= 0.9 * abandoned, "the server cancelled " + (cancellations - deleted)
                    + " of the " + abandoned + " requests whose clients hung up");
            String log = jar.log();
            assertFalse(log.contains(" ERROR "), () -> "the server logged errors:\n" + log);
        }
    }

    /** Plays the schedule from {@code concurrency} clients; fails at once if one of them hangs. */
    private void runLoad(SoakClient client, List<SoakScenario> schedule, ShippedJar jar) throws InterruptedException {
        AtomicInteger next = new AtomicInteger();
        ExecutorService clients = Executors.newFixedThreadPool(concurrency);
        for (int c = 0; c < concurrency; c++) {
            clients.execute(() -> {
                for (int i = next.getAndIncrement(); i < schedule.size(); i = next.getAndIncrement()) {
                    play(client, schedule.get(i), i);
                }
            });
        }
        clients.shutdown();
        while (!clients.awaitTermination(1, TimeUnit.SECONDS)) {
            long now = System.nanoTime();
            List<String> hung = inFlight.entrySet().stream().filter(entry -> now - entry.getValue() > HANG.toNanos())
                    .map(entry -> entry.getKey() + " (" + schedule.get(entry.getKey()) + ")").toList();
            if (!hung.isEmpty()) {
                clients.shutdownNow();
                throw new AssertionError("requests unanswered after " + HANG + ": " + hung + "\n" + jar.log());
            }
        }
    }

    private void play(SoakClient client, SoakScenario scenario, int index) {
        inFlight.put(index, System.nanoTime());
        String outcome;
        try {
            outcome = client.play(scenario, index);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (RuntimeException | AssertionError e) {
            failures.add("request " + index + " " + scenario + ": " + e);
            outcome = "FAILED";
        } finally {
            inFlight.remove(index);
        }
        outcomes.computeIfAbsent(scenario + " " + outcome, key -> new LongAdder()).increment();
        finished.incrementAndGet();
    }

    /** A failed sample is a failure of the soak: a scheduled task that throws would silently stop sampling. */
    private synchronized void sample(ServerResources resources, long start) {
        try {
            samples.add(resources.sample(secondsSince(start), finished.get()));
        } catch (RuntimeException | AssertionError e) {
            failures.add("sampling at " + secondsSince(start) + " s: " + e);
        }
    }

    private double count(SoakScenario scenario, String outcome) {
        LongAdder count = outcomes.get(scenario + " " + outcome);
        return count == null ? 0 : count.sum();
    }

    /** Waits until no job is queued or running and no event stream is open. */
    private static void awaitIdle(ServerResources resources) throws InterruptedException {
        long deadline = System.nanoTime() + IDLE_PATIENCE.toNanos();
        List<String> busy = List.of("stipple.queue.depth", "stipple.active.images", "stipple.event.streams");
        while (busy.stream().mapToDouble(resources::metric).sum() > 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still busy " + IDLE_PATIENCE + " after the last request: "
                        + busy.stream().map(name -> name + " " + resources.metric(name)).toList());
            }
            Thread.sleep(200);
        }
    }

    private String summary(double seconds, Map<Series, SoakDrift> drifts, double idleBefore, double idleAfter,
            double cancellations) {
        StringBuilder text = new StringBuilder();
        text.append(String.format(Locale.ROOT, "Soak: %d requests from %d clients in %.0f s (%.1f requests/s), "
                + "%d samples every %d s, warm-up the first %.0f%% of requests%n", requests, concurrency, seconds,
                requests / seconds, samples.size(), sampleEvery.toSeconds(), WARMUP_SHARE * 100));
        new TreeMap<>(outcomes).forEach((outcome, count) -> text.append(String.format(Locale.ROOT, "  %-45s %6d%n",
                outcome, count.sum())));
        text.append(String.format(Locale.ROOT, "Cancellations counted by the server: %.0f%n", cancellations));
        drifts.values().forEach(drift -> text.append("Steady state: ").append(drift).append('\n'));
        text.append(String.format(Locale.ROOT, "Live NDArrays when idle: %.0f before the first request, %.0f after "
                + "the last%n", idleBefore, idleAfter));
        return text.toString();
    }

    /** The samples as CSV, the summary and the plot, before any assertion, so a failed soak leaves them too. */
    private void publish(String summary, double warmupSeconds, Map<Series, SoakDrift> drifts) throws IOException {
        Files.createDirectories(OUTPUT);
        StringBuilder csv = new StringBuilder(SoakSample.CSV_HEADER).append('\n');
        samples.forEach(sample -> csv.append(sample.csv()).append('\n'));
        Files.writeString(OUTPUT.resolve("samples.csv"), csv, StandardCharsets.UTF_8);
        Files.writeString(OUTPUT.resolve("summary.txt"), summary, StandardCharsets.UTF_8);
        String title = String.format(Locale.ROOT, "Soak of the shipped jar: %,d requests, %d clients", requests,
                concurrency);
        String svg = SoakPlot.svg(title, samples, warmupSeconds, drifts, TOLERANCE);
        Files.writeString(OUTPUT.resolve("soak.svg"), svg, StandardCharsets.UTF_8);
        String plotInto = System.getProperty("soak.plot-into", "");
        if (!plotInto.isBlank()) {
            Path directory = Files.createDirectories(Path.of(plotInto));
            Files.writeString(directory.resolve("soak.svg"), svg, StandardCharsets.UTF_8);
        }
    }

    private static double secondsSince(long start) {
        return (System.nanoTime() - start) / 1e9;
    }
}
