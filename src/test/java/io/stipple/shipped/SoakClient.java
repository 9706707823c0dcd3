package io.stipple.shipped;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.testing.Png;
import io.stipple.testing.StippleHttp;
import io.stipple.testing.StippleHttp.Event;
import io.stipple.testing.StippleHttp.EventStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import tools.jackson.databind.JsonNode;

/**
 * Plays one {@link SoakScenario} against the server and checks every answer it gets. Returns what the
 * scenario ended with, for the soak's tally; throws {@link AssertionError} on any answer the API does not
 * promise for it (a 5xx, a wrong status, a malformed body) and on a job that does not finish in time.
 */
final class SoakClient {
    private static final List<String> SAMPLERS = List.of("ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler_a");
    private static final Set<String> TERMINAL = Set.of("succeeded", "failed", "cancelled");
    /** Far beyond what any request of the mix takes even with every client busy: longer means a hang. */
    private static final Duration JOB_PATIENCE = Duration.ofSeconds(60);
    private static final Duration POLL = Duration.ofMillis(50);
    /** Steps of the jobs that are cancelled or abandoned: long enough to be running when that happens. */
    private static final int LONG_STEPS = 40;

    /** An invalid request: what is sent, and the status and field of the problem it must get. */
    private record Invalid(Function<StippleHttp, HttpResponse<byte[]>> send, int status, String field) {
    }

    private static final List<Invalid> INVALID_REQUESTS = List.of(
            new Invalid(http -> http.generate(body("prompt", "a cat", "width", 66)), 400, "width"),
            new Invalid(http -> http.generate(body("prompt", "a cat", "colour", "red")), 400, "colour"),
            new Invalid(http -> http.generate("{\"prompt\": "), 400, null),
            new Invalid(http -> http.generate(body("prompt", "a cat", "sampler", "plms")), 400, "sampler"),
            new Invalid(http -> http.generate(body("prompt", "a cat", "steps", 0)), 400, "steps"),
            new Invalid(http -> http.generate(body("prompt", "   ")), 400, "prompt"),
            new Invalid(http -> http.post("/v1/jobs", body("prompt", "a cat", "guidance_scale", 31)), 400,
                    "guidance_scale"),
            new Invalid(http -> http.generate(body("prompt", "a cat"), "Content-Type", "text/plain"), 415, null),
            new Invalid(http -> http.generate(body("prompt", "a cat", "num_images", 2), "Accept", "image/png"), 406,
                    null),
            new Invalid(http -> http.get("/v1/jobs/no-such-job"), 404, null),
            new Invalid(http -> http.delete("/v1/jobs/no-such-job"), 404, null),
            new Invalid(http -> http.generate(body("prompt", "x".repeat(8_400_000))), 413, null));

    private final StippleHttp http;
    private final int port;

    SoakClient(StippleHttp http, int port) {
        this.http = http;
        this.port = port;
    }

    String play(SoakScenario scenario, int index) throws InterruptedException {
        return switch (scenario) {
            case SYNC_JSON -> syncJson(index);
            case SYNC_PNG -> syncPng(index);
            case JOB_POLLED -> jobPolled(index);
            case JOB_STREAMED -> jobStreamed(index);
            case JOB_CANCELLED -> jobCancelled(index);
            case SYNC_DISCONNECTED -> syncDisconnected(index);
            case STREAM_DISCONNECTED -> streamDisconnected(index);
            case INVALID -> invalid(index);
        };
    }

    /**
     * A small, quick request that varies with {@code index}: every sampler, guided and not, 32 or 64 pixels
     * square, 4 to 12 steps, seed {@code index}.
     */
    private static String quick(int index, int images) {
        return body("prompt", "a red circle on a blue background", "width", side(index), "height", side(index),
                "steps", 4 + index % 9, "guidance_scale", index % 2 == 0 ? 3.0 : 1.0,
                "sampler", SAMPLERS.get(index % SAMPLERS.size()), "seed", index, "num_images", images);
    }

    private static int side(int index) {
        return index % 3 == 0 ? 32 : 64;
    }

    private static String slow(int index) {
        return body("prompt", "a green triangle on a white background", "steps", LONG_STEPS, "seed", index);
    }

    private String syncJson(int index) {
        HttpResponse<byte[]> response = http.generate(quick(index, 1));
        assertEquals(200, response.statusCode(), () -> text(response));
        JsonNode image = json(response).at("/images/0");
        assertEquals(index, image.get("seed").asLong());
        assertSquarePng(StippleHttp.png(image), side(index));
        return "200";
    }

    private String syncPng(int index) {
        HttpResponse<byte[]> response = http.generate(quick(index, 1), "Accept", "image/png");
        assertEquals(200, response.statusCode(), () -> text(response));
        assertEquals("image/png", response.headers().firstValue("Content-Type").orElse(""));
        assertEquals(Integer.toString(index), response.headers().firstValue("X-Stipple-Seed").orElse(""));
        assertSquarePng(response.body(), side(index));
        return "200";
    }

    private String jobPolled(int index) throws InterruptedException {
        int images = index % 4 == 0 ? 2 : 1;
        String job = submit(quick(index, images));
        JsonNode finished = awaitTerminal(job);
        assertEquals("succeeded", finished.get("status").asString(), finished::toString);
        for (int n = 0; n < images; n++) {
            assertSquarePng(image(job, n), side(index));
        }
        return "succeeded";
    }

    private String jobStreamed(int index) {
        String job = submit(quick(index, 1));
        Event last = null;
        int step = -1;
        try (EventStream events = http.events(job + "/events")) {
            for (Event event = events.next(); event != null; event = events.next()) {
                if (event.name().equals("progress")) {
                    int now = event.data().get("step").asInt();
                    assertTrue(now >= step, "progress went back from step " + step + " to " + now);
                    step = now;
                }
                last = event;
            }
        }
        assertTrue(last != null && last.name().equals("succeeded"), "the stream ended with " + last);
        assertSquarePng(image(job, 0), side(index));
        return "succeeded";
    }

    /**
     * Cancels after up to a tenth of a second: some jobs are still queued then, most are running. A job
     * may finish before the cancellation reaches it (409, or succeeded at the step it was cancelled on).
     */
    private String jobCancelled(int index) throws InterruptedException {
        String job = submit(slow(index));
        Thread.sleep(index % 100);
        HttpResponse<byte[]> cancel = http.delete(job);
        if (cancel.statusCode() == 409) {
            assertProblem(cancel, 409, null, "nothing to cancel");
            return "finished before DELETE";
        }
        assertEquals(202, cancel.statusCode(), () -> text(cancel));
        // A queued job is cancelled on the spot; a running one reads "running" until its next step.
        String when = json(cancel).get("status").asString().equals("cancelled") ? " while queued" : " while running";
        String status = awaitTerminal(job).get("status").asString();
        assertTrue(status.equals("cancelled") || status.equals("succeeded"), "after DELETE the job " + status);
        return status + when;
    }

    /**
     * Sends a long request over a socket of its own and closes it after 20 to 160 ms, without reading: the
     * server must notice and cancel the work (the soak checks the cancellations counter).
     */
    private String syncDisconnected(int index) throws InterruptedException {
        byte[] json = slow(index).getBytes(StandardCharsets.UTF_8);
        String head = "POST /generate HTTP/1.1\r\nHost: localhost:" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + json.length + "\r\n\r\n";
        try (Socket socket = new Socket("localhost", port)) {
            OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            out.write(json);
            out.flush();
            Thread.sleep(20 + index % 141);
            return socket.getInputStream().available() > 0 ? "answered before the client left" : "left unanswered";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An event stream abandoned after its first event: the job it watched carries on and succeeds. */
    private String streamDisconnected(int index) throws InterruptedException {
        String job = submit(slow(index));
        try (EventStream events = http.events(job + "/events")) {
            assertTrue(events.next() != null, "the stream opened without an event");
        }
        JsonNode finished = awaitTerminal(job);
        assertEquals("succeeded", finished.get("status").asString(), finished::toString);
        return "succeeded";
    }

    /** The invalid requests in turn, by {@code index}. */
    private String invalid(int index) {
        Invalid invalid = INVALID_REQUESTS.get(index % INVALID_REQUESTS.size());
        assertProblem(invalid.send().apply(http), invalid.status(), invalid.field(), "");
        return Integer.toString(invalid.status());
    }

    /** {@code POST /v1/jobs}; returns the job's path from {@code Location}. */
    private String submit(String json) {
        HttpResponse<byte[]> response = http.post("/v1/jobs", json);
        assertEquals(202, response.statusCode(), () -> text(response));
        return response.headers().firstValue("Location").orElseThrow(() -> new AssertionError("202 without Location"));
    }

    private JsonNode awaitTerminal(String job) throws InterruptedException {
        long deadline = System.nanoTime() + JOB_PATIENCE.toNanos();
        while (true) {
            HttpResponse<byte[]> response = http.get(job);
            assertEquals(200, response.statusCode(), () -> text(response));
            JsonNode view = json(response);
            if (TERMINAL.contains(view.get("status").asString())) {
                return view;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError(job + " still " + view.get("status").asString() + " after " + JOB_PATIENCE);
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    private byte[] image(String job, int n) {
        HttpResponse<byte[]> response = http.send(http.request(job + "/images/" + n).GET().build());
        assertEquals(200, response.statusCode(), () -> text(response));
        assertEquals("image/png", response.headers().firstValue("Content-Type").orElse(""));
        return response.body();
    }

    private static void assertSquarePng(byte[] png, int side) {
        BufferedImage image = Png.decode(png);
        assertEquals(side, image.getWidth());
        assertEquals(side, image.getHeight());
    }

    private static String text(HttpResponse<byte[]> response) {
        return response.statusCode() + " " + new String(response.body(), StandardCharsets.UTF_8);
    }
}
