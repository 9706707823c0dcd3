package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.body;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.StippleHttp;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Abuse of the HTTP protocol against the jar as shipped, over raw sockets: malformed and oversized requests,
 * bodies that crawl or never end, event streams nobody reads, a thousand idle connections. Each must end
 * by the configured timeouts, cost bounded threads and memory, and leave other clients served while it goes
 * on. No test depends on another: those that compare costs take their baseline once the server has
 * finished what earlier tests started ({@link ServerCost#settled}). Waits poll for a condition under a
 * generous cap; how long things took goes to target/reliability/protocol-abuse.txt (docs/RELIABILITY.md
 * quotes it), never into an assertion.
 */
@Timeout(120)
class ProtocolAbuseIT {
    /**
     * The jar runs with a 10 s connection timeout instead of the shipped 60 s, so that what waits for it (idle
     * connections, a body that stops) ends within the test's couple of minutes; with 60 s those figures scale.
     */
    private static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(10);
    /** stipple.limits.body-timeout as shipped. */
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);
    /** Scheduling on a loaded 2-core machine. */
    private static final Duration SLACK = Duration.ofSeconds(5);
    /**
     * The cap on waiting for the server to close a connection: it closes at the connection timeout, or after
     * at most one more read when it refused a request (Tomcat reads once before it gives up draining).
     */
    private static final Duration CLOSED_WITHIN = CONNECTION_TIMEOUT.plus(CONNECTION_TIMEOUT).plus(SLACK);
    private static final String HOST = "Host: localhost\r\n";

    private static ShippedJar jar;
    private static final Map<String, String> figures = new LinkedHashMap<>();

    @BeforeAll
    static void startTheJar() throws Exception {
        jar = ShippedJar.start("--server.tomcat.connection-timeout=" + CONNECTION_TIMEOUT.toSeconds() + "s");
    }

    @AfterAll
    static void stopTheJarAndWriteFigures() throws Exception {
        if (jar != null) {
            jar.close();
        }
        StringBuilder text = new StringBuilder();
        figures.forEach((abuse, cost) -> text.append(abuse).append(": ").append(cost).append('\n'));
        Path out = Path.of("target", "reliability", "protocol-abuse.txt");
        Files.createDirectories(out.getParent());
        Files.writeString(out, text);
        System.out.print(text);
    }

    @Test
    void malformedRequestsAreRefusedAndClosed() throws Exception {
        Map<String, String> requests = new LinkedHashMap<>();
        requests.put("binary garbage", "\u0000\u0001\u0002\u00ff\u00fe hello\r\n\r\n");
        requests.put("no HTTP version", "GET /v1/model\r\n\r\n");
        requests.put("unknown HTTP version", "GET /v1/model HTTP/9.9\r\n" + HOST + "\r\n");
        requests.put("HTTP/2 preface on HTTP/1.1", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        requests.put("no Host", "GET /v1/model HTTP/1.1\r\n\r\n");
        requests.put("two Hosts", "GET /v1/model HTTP/1.1\r\n" + HOST + HOST + "\r\n");
        requests.put("space in the target", "GET /v1/ model HTTP/1.1\r\n" + HOST + "\r\n");
        requests.put("control character in the target", "GET /v1/\u0001model HTTP/1.1\r\n" + HOST + "\r\n");
        requests.put("invalid method token", "G@T /v1/model HTTP/1.1\r\n" + HOST + "\r\n");
        requests.put("header without a colon", "GET /v1/model HTTP/1.1\r\n" + HOST + "NoColon\r\n\r\n");
        requests.put("space before the colon", "GET /v1/model HTTP/1.1\r\nHost : localhost\r\n\r\n");
        requests.put("obsolete line folding", "GET /v1/model HTTP/1.1\r\n" + HOST + "X-A: a\r\n b\r\n\r\n");
        requests.put("NUL in a header value", "GET /v1/model HTTP/1.1\r\n" + HOST + "X-A: a\u0000b\r\n\r\n");
        requests.put("negative Content-Length", "POST /generate HTTP/1.1\r\n" + HOST + "Content-Length: -1\r\n\r\n");
        requests.put("two Content-Lengths", "POST /generate HTTP/1.1\r\n" + HOST + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}");
        requests.put("Content-Length with chunked", "POST /generate HTTP/1.1\r\n" + HOST
                + "Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        requests.put("unknown transfer coding", "POST /generate HTTP/1.1\r\n" + HOST + "Transfer-Encoding: gzip\r\n\r\n");
        requests.put("malformed chunk size", "POST /generate HTTP/1.1\r\n" + HOST
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
        requests.put("chunk size past 2^64", "POST /generate HTTP/1.1\r\n" + HOST
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n{}\r\n");
        requests.put("TRACE", "TRACE /v1/model HTTP/1.1\r\n" + HOST + "\r\n");
        requests.put("CONNECT", "CONNECT localhost:80 HTTP/1.1\r\n" + HOST + "\r\n");
        requests.put("absolute-form target elsewhere", "GET http://example.invalid/v1/model HTTP/1.1\r\n" + HOST
                + "Connection: close\r\n\r\n");
        requests.put("Expect: 100-continue, then no body", "POST /generate HTTP/1.1\r\n" + HOST
                + "Content-Type: application/json\r\nContent-Length: 20\r\nExpect: 100-continue\r\n\r\n");

        ServerCost before = ServerCost.of(jar);
        long start = System.nanoTime();
        Map<String, String> answers = inParallel(new ArrayList<>(requests.keySet()), name -> {
            try (RawConnection connection = RawConnection.open(jar.port)) {
                connection.send(requests.get(name));
                return connection.readUntilClosed(CLOSED_WITHIN);
            }
        });
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        for (Map.Entry<String, String> answer : answers.entrySet()) {
            assertNotNull(answer.getValue(), answer.getKey() + ": still open after " + CLOSED_WITHIN);
            int status = lastStatus(answer.getValue());
            assertTrue(status == 0 || status / 100 == 2 || status / 100 == 4 || status == 501 || status == 505,
                    answer.getKey() + ": " + answer.getValue());
        }
        figures.put("malformed requests (" + requests.size() + " kinds)", "all ended within " + seconds(took) + "; "
                + ServerCost.of(jar).against(before) + "; answers " + statuses(answers));
        serveAnotherClient();
    }

    @Test
    void oversizedRequestLinesAndHeadersAreRefused() throws Exception {
        Map<String, String> requests = new LinkedHashMap<>();
        requests.put("10KB request target", "GET /v1/model?q=" + "a".repeat(10_000) + " HTTP/1.1\r\n" + HOST + "\r\n");
        requests.put("9KB header", "GET /v1/model HTTP/1.1\r\n" + HOST + "X-Big: " + "a".repeat(9_000) + "\r\n\r\n");
        requests.put("200 headers of 50 bytes", "GET /v1/model HTTP/1.1\r\n" + HOST + "X-Many: abcdefghijklmnopqrstuvwxyz0123456789abcd\r\n".repeat(200) + "\r\n");
        requests.put("101 small headers", "GET /v1/model HTTP/1.1\r\n" + HOST + "X-H: 1\r\n".repeat(101) + "\r\n");
        Map<String, String> answers = inParallel(new ArrayList<>(requests.keySet()), name -> {
            try (RawConnection connection = RawConnection.open(jar.port)) {
                connection.send(requests.get(name));
                return connection.readUntilClosed(CLOSED_WITHIN);
            }
        });
        for (Map.Entry<String, String> answer : answers.entrySet()) {
            assertNotNull(answer.getValue(), answer.getKey());
            int status = lastStatus(answer.getValue());
            assertTrue(status == 400 || status == 414 || status == 431, answer.getKey() + ": " + answer.getValue());
            assertTrue(answer.getValue().contains("application/problem+json"), answer.getKey() + ": " + answer.getValue());
        }
        figures.put("oversized request line and headers", "answers " + statuses(answers));
        serveAnotherClient();
    }

    @Test
    void bodiesSlowerThanAByteASecondAreCutOffAtTheBodyTimeout() throws Exception {
        int clients = 20;
        String head = "POST /generate HTTP/1.1\r\n" + HOST + "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
        abuseWithTrickles("a body at one byte per 1.5 s (" + clients + " clients)", Collections.nCopies(clients, head), "{",
                Duration.ofMillis(1500));
    }

    @Test
    void chunkedBodiesThatNeverEndAreCutOffAtTheBodyTimeout() throws Exception {
        int clients = 20;
        String head = "POST /v1/jobs HTTP/1.1\r\n" + HOST + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        abuseWithTrickles("a chunked body that never ends, a chunk a second (" + clients + " clients)",
                Collections.nCopies(clients, head), "1\r\n \r\n", Duration.ofSeconds(1));
    }

    /** The forms {@code curl -F} sends: parsed by the server, but read within the same body timeout as JSON. */
    @Test
    void multipartBodiesSlowerThanAByteASecondAreCutOffAtTheBodyTimeout() throws Exception {
        int clients = 20;
        List<String> heads = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            heads.add("POST " + (i % 2 == 0 ? "/generate" : "/v1/jobs") + " HTTP/1.1\r\n" + HOST
                    + "Content-Type: multipart/form-data; boundary=trickle\r\nContent-Length: 1000\r\n\r\n"
                    + "--trickle\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\n");
        }
        abuseWithTrickles("a multipart body at one byte per 1.5 s (" + clients + " clients, /generate and /v1/jobs)",
                heads, "a", Duration.ofMillis(1500));
    }

    @Test
    void aChunkedBodyThatStopsIsCutOffAtTheConnectionTimeout() throws Exception {
        long start = System.nanoTime();
        try (RawConnection connection = RawConnection.open(jar.port)) {
            connection.send("POST /generate HTTP/1.1\r\n" + HOST + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\n{\"pro\r\n");
            String answer = connection.readUntilClosed(CLOSED_WITHIN);
            assertNotNull(answer, "still open after " + CLOSED_WITHIN);
            assertEquals(408, lastStatus(answer), answer);
            assertTrue(answer.contains("application/problem+json"), answer);
        }
        figures.put("a chunked body that stops", "408, connection closed after " + seconds(Duration.ofNanos(System.nanoTime() - start)));
    }

    /**
     * One client per head sends it, then {@code piece} every {@code interval} until the server answers. Sent this
     * slowly, a body never waits out Tomcat's per-read connection timeout, so only the body timeout can answer
     * it 408 before the client gives up ({@link #trickle}).
     */
    private void abuseWithTrickles(String abuse, List<String> heads, String piece, Duration interval) throws Exception {
        int clients = heads.size();
        ServerCost before = ServerCost.settled(jar);
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Trickle>> trickles = new ArrayList<>();
            for (String head : heads) {
                trickles.add(pool.submit(() -> trickle(head, piece, interval)));
            }
            ServerCost during = await("an HTTP thread reading each trickling body").atMost(BODY_TIMEOUT)
                    .until(() -> ServerCost.of(jar), cost -> cost.busyThreads() > clients);
            Duration canary = serveAnotherClient();
            assertTrue(trickles.stream().noneMatch(Future::isDone), "another client was served only after the abuse ended");
            Duration slowest = Duration.ZERO;
            for (Future<Trickle> future : trickles) {
                Trickle trickle = future.get();
                assertNotNull(trickle.answer, "still no answer " + trickle.took + " after the headers");
                assertEquals(408, lastStatus(trickle.answer), trickle.answer);
                assertTrue(trickle.answer.contains("application/problem+json"), trickle.answer);
                slowest = slowest.compareTo(trickle.took) < 0 ? trickle.took : slowest;
            }
            assertTrue(during.busyThreads() <= clients + 2, "busy HTTP threads: " + during);
            figures.put(abuse, "all answered 408 within " + seconds(slowest) + "; during: " + during.against(before)
                    + "; another client served in " + canary.toMillis() + " ms");
        } finally {
            pool.shutdownNow();
        }
    }

    private record Trickle(String answer, Duration took) {
    }

    /** Gives up, with no answer, when the body timeout and one more connection timeout have passed. */
    private static Trickle trickle(String head, String piece, Duration interval) {
        long start = System.nanoTime();
        Duration patience = BODY_TIMEOUT.plus(CONNECTION_TIMEOUT).plus(SLACK);
        try (RawConnection connection = RawConnection.open(jar.port)) {
            connection.send(head);
            while (Duration.ofNanos(System.nanoTime() - start).compareTo(patience) < 0) {
                String answer = connection.readUntilClosed(interval);
                if (answer != null) {
                    return new Trickle(answer, Duration.ofNanos(System.nanoTime() - start));
                }
                connection.send(piece);
            }
            return new Trickle(null, patience);
        }
    }

    @Test
    void eventStreamsThatNobodyReadsEndWithTheirJob() throws Exception {
        int readers = 50;
        ServerCost before = ServerCost.settled(jar);
        HttpResponse<byte[]> accepted = jar.http.post("/v1/jobs", body("prompt", "a green circle", "steps", 150, "width", 256,
                "height", 256));
        assertEquals(202, accepted.statusCode(), () -> new String(accepted.body()));
        String job = accepted.headers().firstValue("Location").orElseThrow();
        List<RawConnection> streams = new ArrayList<>();
        try {
            for (int i = 0; i < readers; i++) {
                RawConnection stream = RawConnection.open(jar.port, 1024);
                stream.send("GET " + job + "/events HTTP/1.1\r\n" + HOST + "Accept: text/event-stream\r\n\r\n");
                streams.add(stream);
            }
            // Two previews (one every 4 steps) have gone to every stream: more than a 1KB receive buffer takes.
            await("every stream open and the job 8 steps on").atMost(CLOSED_WITHIN)
                    .until(() -> streamsOpen() == readers && stepsDone(job) >= 8);
            ServerCost during = ServerCost.of(jar);
            Duration canary = serveAnotherClient();
            assertTrue(during.busyThreads() <= 2, "busy HTTP threads while streams are open: " + during);
            // At most one sender thread per stream; Tomcat's pool may have grown to take the requests, but no
            // stream holds one of its threads (they are asynchronous).
            assertTrue(during.otherThreads() <= before.otherThreads() + readers + ServerCost.JVM_THREADS_THAT_COME_AND_GO,
                    "threads: " + during.against(before));

            long cancelled = System.nanoTime();
            jar.http.delete(job);
            await("every event stream ended after its job").atMost(CLOSED_WITHIN).until(() -> streamsOpen() == 0);
            figures.put(readers + " event streams never read, job of 150 steps", "during: " + during.against(before)
                    + ", " + readers + " streams open; another client served in " + canary.toMillis()
                    + " ms; all streams ended " + seconds(Duration.ofNanos(System.nanoTime() - cancelled))
                    + " after the job was cancelled");
        } finally {
            streams.forEach(RawConnection::close);
        }
    }

    private static double streamsOpen() {
        return StippleHttp.json(jar.http.get("/actuator/metrics/stipple.event.streams")).at("/measurements/0/value").asDouble();
    }

    private static int stepsDone(String job) {
        return StippleHttp.json(jar.http.get(job)).at("/progress/step").asInt(0);
    }

    @Test
    void aThousandIdleConnectionsCostNoThreadsAndAreClosed() throws Exception {
        int idle = 1000;
        int halfSent = 200;
        ServerCost before = ServerCost.settled(jar);
        List<OpenedConnection> connections = new ArrayList<>();
        try {
            for (int i = 0; i < idle; i++) {
                connections.add(new OpenedConnection(RawConnection.open(jar.port), System.nanoTime()));
            }
            for (int i = 0; i < halfSent; i++) {
                RawConnection connection = RawConnection.open(jar.port);
                long opened = System.nanoTime();
                connection.send("GET /v1/model HTTP/1.1\r\n" + HOST + "X-Slow: ");
                connections.add(new OpenedConnection(connection, opened));
            }
            Duration openedIn = Duration.ofNanos(connections.get(connections.size() - 1).opened - connections.get(0).opened);
            ServerCost during = await("the server to hold every connection").atMost(CONNECTION_TIMEOUT)
                    .until(() -> ServerCost.of(jar), cost -> cost.connections() >= idle + halfSent);
            Duration canary = serveAnotherClient();
            assertTrue(ServerCost.of(jar).connections() >= idle + halfSent,
                    "another client was served only after the idle connections were closed");
            assertTrue(during.busyThreads() <= 2, "busy HTTP threads with idle connections: " + during);
            assertTrue(during.otherThreads() <= before.otherThreads() + ServerCost.JVM_THREADS_THAT_COME_AND_GO,
                    "threads: " + during.against(before));

            Duration slowest = Duration.ZERO;
            for (OpenedConnection connection : connections) {
                Duration waited = Duration.ofNanos(System.nanoTime() - connection.opened);
                Duration left = CLOSED_WITHIN.minus(waited);
                assertNotNull(connection.connection.readUntilClosed(left.isNegative() ? Duration.ofMillis(1) : left),
                        "a connection still open " + CLOSED_WITHIN + " after it was opened");
                Duration closedAfter = Duration.ofNanos(System.nanoTime() - connection.opened);
                slowest = slowest.compareTo(closedAfter) < 0 ? closedAfter : slowest;
            }
            figures.put(idle + " idle connections and " + halfSent + " with half-sent headers", "opened in "
                    + seconds(openedIn) + "; during: " + during.against(before) + "; another client served in "
                    + canary.toMillis() + " ms; each closed by the server within " + seconds(slowest) + " of its opening");
        } finally {
            connections.forEach(connection -> connection.connection.close());
        }
    }

    /** A connection and when its {@code connect} returned. */
    private record OpenedConnection(RawConnection connection, long opened) {
    }

    /**
     * Another client's cheap read and cheap generation, each answered 200; returns how long the slower took.
     * Callers assert that the abuse was still going on afterwards: that is what "served meanwhile" means.
     */
    private static Duration serveAnotherClient() {
        long start = System.nanoTime();
        assertEquals(200, jar.http.get("/v1/model").statusCode());
        Duration read = Duration.ofNanos(System.nanoTime() - start);
        start = System.nanoTime();
        jar.http.generateJson(body("prompt", "a red circle", "steps", 1, "width", 16, "height", 16));
        Duration generated = Duration.ofNanos(System.nanoTime() - start);
        return read.compareTo(generated) > 0 ? read : generated;
    }

    private static <T> Map<String, T> inParallel(List<String> names, Function<String, T> work) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(names.size());
        try {
            Map<String, Future<T>> futures = new LinkedHashMap<>();
            names.forEach(name -> futures.put(name, pool.submit(() -> work.apply(name))));
            Map<String, T> results = new LinkedHashMap<>();
            for (Map.Entry<String, Future<T>> future : futures.entrySet()) {
                results.put(future.getKey(), future.getValue().get());
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The status of the last answer on the connection (after a 100 Continue, the final one); 0 for none. */
    private static int lastStatus(String answers) {
        int last = answers.lastIndexOf("HTTP/1.1 ");
        return last < 0 ? 0 : RawConnection.status(answers.substring(last));
    }

    private static String statuses(Map<String, String> answers) {
        Map<Integer, Integer> counts = new TreeMap<>();
        answers.values().forEach(answer -> counts.merge(lastStatus(answer), 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        counts.forEach((status, count) -> parts.add(count + " × " + (status == 0 ? "closed without an answer" : status)));
        return String.join(", ", parts);
    }

    private static String seconds(Duration duration) {
        return String.format("%.1f s", duration.toMillis() / 1000.0);
    }
}
