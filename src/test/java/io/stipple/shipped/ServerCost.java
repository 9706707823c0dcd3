package io.stipple.shipped;

import io.stipple.testing.StippleHttp;

/**
 * What the server spends at one moment: live JVM threads, Tomcat threads busy with a request, heap in use
 * and resident memory; read from {@code /actuator/metrics} and {@code /proc}.
 */
record ServerCost(int threads, int busyThreads, long heapBytes, long residentBytes) {

    static ServerCost of(ShippedJar jar) {
        return new ServerCost((int) metric(jar.http, "jvm.threads.live"), (int) metric(jar.http, "tomcat.threads.busy"),
                (long) metric(jar.http, "jvm.memory.used?tag=area:heap"), jar.residentBytes());
    }

    private static double metric(StippleHttp http, String nameAndTags) {
        return StippleHttp.json(http.get("/actuator/metrics/" + nameAndTags)).at("/measurements/0/value").asDouble();
    }

    /** This cost against a baseline, as a row of docs/RELIABILITY.md's table. */
    String against(ServerCost baseline) {
        return String.format("threads %d (%+d), busy HTTP threads %d, heap %+.0f MB, RSS %+.0f MB", threads,
                threads - baseline.threads, busyThreads, (heapBytes - baseline.heapBytes) / 1e6,
                (residentBytes - baseline.residentBytes) / 1e6);
    }
}
