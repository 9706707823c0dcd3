package io.stipple.shipped;

import static org.awaitility.Awaitility.await;

import io.stipple.testing.StippleHttp;
import java.time.Duration;

/**
 * What the server spends at one moment: live JVM threads, the threads of Tomcat's request pool and how many
 * of them are busy with a request, open connections, heap in use and resident memory; read from
 * {@code /actuator/metrics} and {@code /proc}.
 */
record ServerCost(int threads, int httpThreads, int busyThreads, int connections, long heapBytes, long residentBytes) {
    /**
     * Threads the JVM starts and ends by itself with its load (JIT compiler and GC workers): a margin for any
     * comparison of thread counts.
     */
    static final int JVM_THREADS_THAT_COME_AND_GO = 10;
    /** Connections of the test's own HTTP client, which reads metrics and serves as the other client. */
    private static final int OWN_CONNECTIONS = 2;

    static ServerCost of(ShippedJar jar) {
        return new ServerCost((int) metric(jar.http, "jvm.threads.live"), (int) metric(jar.http, "tomcat.threads.current"),
                (int) metric(jar.http, "tomcat.threads.busy"), (int) metric(jar.http, "tomcat.connections.current"),
                (long) metric(jar.http, "jvm.memory.used?tag=area:heap"), jar.residentBytes());
    }

    /**
     * The cost once nothing but the test's own client is left: no request in progress but the one reading the
     * metrics, no other connection open. What an earlier test started (connections that Tomcat has yet to
     * time out, bodies it is still reading) has ended by then, so a baseline taken here is the same whatever
     * ran before.
     */
    static ServerCost settled(ShippedJar jar) {
        return await("the server to finish what earlier tests started").atMost(Duration.ofMinutes(2))
                .pollInterval(Duration.ofMillis(200)).until(() -> of(jar),
                        cost -> cost.busyThreads <= 1 && cost.connections <= OWN_CONNECTIONS);
    }

    /** Threads outside Tomcat's request pool: the JVM's own, the engine's, event-stream senders. */
    int otherThreads() {
        return threads - httpThreads;
    }

    private static double metric(StippleHttp http, String nameAndTags) {
        return StippleHttp.json(http.get("/actuator/metrics/" + nameAndTags)).at("/measurements/0/value").asDouble();
    }

    /** This cost against a baseline, as a row of docs/RELIABILITY.md's table. */
    String against(ServerCost baseline) {
        return String.format("threads %d (%+d; HTTP pool %d, %+d), busy HTTP threads %d, heap %+.0f MB, RSS %+.0f MB",
                threads, threads - baseline.threads, httpThreads, httpThreads - baseline.httpThreads, busyThreads,
                (heapBytes - baseline.heapBytes) / 1e6, (residentBytes - baseline.residentBytes) / 1e6);
    }
}
