package io.stipple.shipped;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The application jar that {@code mvn package} built, run the way a user runs it: {@code java -jar}, from an
 * empty working directory, with no settings but a free port (and any extra arguments a test names). Its log
 * (stdout and stderr together) goes to a file the test can read.
 */
final class ShippedJar implements AutoCloseable {
    private static final Duration STARTUP = Duration.ofSeconds(120);

    final int port;
    final StippleHttp http;
    private final Process process;
    private final Path log;

    private ShippedJar(int port, Process process, Path log) {
        this.port = port;
        this.http = new StippleHttp(port);
        this.process = process;
        this.log = log;
    }

    /** Starts the jar and waits until it answers ready. */
    static ShippedJar start(String... arguments) throws IOException, InterruptedException {
        Path jar = Path.of(System.getProperty("stipple.jar", "target/stipple-0.1.0-SNAPSHOT.jar")).toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), "no application jar at " + jar + ": run `mvn verify`, which packages it first");
        Path workingDirectory = Files.createTempDirectory("stipple-shipped");
        Path log = workingDirectory.resolve("stipple.log");
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-jar", jar.toString(), "--server.port=" + port));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).directory(workingDirectory.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ShippedJar shipped = new ShippedJar(port, process, log);
        shipped.awaitReady();
        return shipped;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private void awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("the jar exited with " + process.exitValue() + " while starting:\n" + log());
            }
            try {
                HttpResponse<byte[]> ready = http.get("/actuator/health/readiness");
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (UncheckedIOException notListeningYet) {
                // The port opens only once the model is loaded.
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the jar was not ready within " + STARTUP + ":\n" + log());
    }

    /** The process's resident memory in bytes, as Linux counts it ({@code VmRSS}). */
    long residentBytes() {
        try {
            String status = Files.readString(Path.of("/proc", Long.toString(process.pid()), "status"));
            String kilobytes = status.lines().filter(line -> line.startsWith("VmRSS:")).findFirst().orElseThrow()
                    .replaceAll("[^0-9]", "");
            return Long.parseLong(kilobytes) * 1024;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Everything the process has written so far. */
    String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The JVM's process id: the jar runs in the very process this class started. */
    long pid() {
        return process.pid();
    }

    /** Sends SIGTERM, as a container runtime or {@code kill} does; the process shuts down gracefully. */
    void terminate() {
        process.destroy();
    }

    /** Waits for the process to exit and returns its exit code. */
    int awaitExit(Duration patience) throws InterruptedException {
        if (!process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the jar was still running " + patience + " after SIGTERM:\n" + log());
        }
        return process.exitValue();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
