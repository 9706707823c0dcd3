package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.json;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.tools.attach.VirtualMachine;
import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import tools.jackson.databind.JsonNode;

/**
 * Reads what a long-running server holds: its resident memory from {@code /proc}, its live heap, and
 * its threads and live NDArrays as its own metrics report them.
 *
 * <p>The heap is read right after a full GC, which this class asks for over JMX (the JDK's attach API
 * starts the server's local management agent; nothing on the command line changes). Heap in use between
 * collections is a sawtooth of garbage that says nothing about leaks; what survives a full GC does.
 */
final class ServerResources implements AutoCloseable {
    private static final double MIB = 1024 * 1024;

    private final long pid;
    private final StippleHttp http;
    private final JMXConnector connector;
    private final MemoryMXBean memory;

    private ServerResources(long pid, StippleHttp http, JMXConnector connector, MemoryMXBean memory) {
        this.pid = pid;
        this.http = http;
        this.connector = connector;
        this.memory = memory;
    }

    static ServerResources of(ShippedJar jar) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(Long.toString(jar.pid()));
        String address;
        try {
            address = vm.startLocalManagementAgent();
        } finally {
            vm.detach();
        }
        JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address));
        MemoryMXBean memory = ManagementFactory.newPlatformMXBeanProxy(connector.getMBeanServerConnection(),
                ManagementFactory.MEMORY_MXBEAN_NAME, MemoryMXBean.class);
        return new ServerResources(jar.pid(), jar.http, connector, memory);
    }

    /** One reading of every series, taken now. */
    SoakSample sample(double seconds, int requests) {
        memory.gc();
        double heap = memory.getHeapMemoryUsage().getUsed() / MIB;
        return new SoakSample(seconds, requests, residentMib(), heap, metric("jvm.threads.live"),
                metric("stipple.ndarrays.live"));
    }

    /** {@code VmRSS} of {@code /proc/PID/status}, which the kernel gives in kB. */
    private double residentMib() {
        try {
            String line = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status")).stream()
                    .filter(status -> status.startsWith("VmRSS:")).findFirst()
                    .orElseThrow(() -> new AssertionError("no VmRSS for process " + pid));
            return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A meter's value from {@code /actuator/metrics}. */
    double metric(String name) {
        HttpResponse<byte[]> response = http.get("/actuator/metrics/" + name);
        assertEquals(200, response.statusCode(), () -> name + ": " + new String(response.body()));
        JsonNode measurements = json(response).get("measurements");
        return measurements.get(0).get("value").asDouble();
    }

    @Override
    public void close() throws IOException {
        connector.close();
    }
}
