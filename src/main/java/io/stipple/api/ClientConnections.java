package io.stipple.api;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.tomcat.servlet.TomcatServletWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Notices when the client of a waiting synchronous request hangs up. The Servlet API reports a closed
 * connection only on a failed read or write, and a request waiting for its image does neither, so
 * every pending connection is probed a few times a second with a non-blocking read on Tomcat's socket.
 */
@Component
class ClientConnections implements WebServerFactoryCustomizer<TomcatServletWebServerFactory>, DisposableBean {
    private static final String COYOTE_REQUEST = ClientConnections.class.getName() + ".coyote";
    private static final long PROBE_MILLIS = 250;

    private final Map<org.apache.coyote.Request, Runnable> watched = new ConcurrentHashMap<>();
    private final ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "stipple-connection-probe");
        thread.setDaemon(true);
        return thread;
    });

    ClientConnections() {
        prober.scheduleWithFixedDelay(this::probe, PROBE_MILLIS, PROBE_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Exposes Tomcat's own request object to {@link #onDisconnect}. */
    @Override
    public void customize(TomcatServletWebServerFactory factory) {
        factory.addEngineValves(new ValveBase(true) {
            @Override
            public void invoke(Request request, Response response) throws IOException, ServletException {
                request.setAttribute(COYOTE_REQUEST, request.getCoyoteRequest());
                getNext().invoke(request, response);
            }
        });
    }

    /** Runs {@code action} once if the client disconnects before {@link Watch#close()}. */
    Watch onDisconnect(HttpServletRequest request, Runnable action) {
        Object coyote = request.getAttribute(COYOTE_REQUEST);
        if (!(coyote instanceof org.apache.coyote.Request connection)) {
            return () -> { };
        }
        watched.put(connection, action);
        return () -> watched.remove(connection);
    }

    private void probe() {
        watched.forEach((connection, action) -> {
            if (hungUp(connection) && watched.remove(connection) != null) {
                action.run();
            }
        });
    }

    /**
     * Once the request body is read, a live client sends nothing until it has its answer, so a
     * non-blocking read finds no data. On a closed socket Tomcat's read fails and it reports one byte
     * available, on every attempt; data a client pipelines is reported once and then stays buffered.
     */
    private static boolean hungUp(org.apache.coyote.Request connection) {
        for (int attempt = 0; attempt < 2; attempt++) {
            connection.action(ActionCode.AVAILABLE, Boolean.TRUE);
            if (connection.getAvailable() == 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void destroy() {
        prober.shutdownNow();
    }

    /** Stops watching a connection. */
    interface Watch extends AutoCloseable {
        @Override
        void close();
    }
}
