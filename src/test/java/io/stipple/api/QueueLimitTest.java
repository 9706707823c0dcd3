package io.stipple.api;

import static io.stipple.testing.Png.decode;
import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static io.stipple.testing.StippleHttp.png;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** A full admission queue refuses work with 429 and Retry-After, and never harms the requests it admitted. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.queue.capacity=1"})
class QueueLimitTest {
    private static final int REQUESTS = 6;

    @LocalServerPort
    int port;

    @Test
    void requestsBeyondTheQueueAreRefusedWithRetryAfter() {
        StippleHttp http = new StippleHttp(port);
        // About 1.5 s each on the tiny model, so every request arrives while the first still runs:
        // one runs, one waits, the rest find the queue full.
        String slow = body("prompt", "a cat", "width", 256, "height", 256, "steps", 150, "seed", 1);
        List<CompletableFuture<HttpResponse<byte[]>>> pending = IntStream.range(0, REQUESTS)
                .mapToObj(i -> http.sendAsync(http.generateRequest(BodyPublishers.ofString(slow))))
                .toList();

        int admitted = 0;
        int refused = 0;
        for (CompletableFuture<HttpResponse<byte[]>> future : pending) {
            HttpResponse<byte[]> response = future.join();
            if (response.statusCode() == 429) {
                assertProblem(response, 429, null, "queue is full");
                String retryAfter = response.headers().firstValue("Retry-After").orElseThrow();
                assertTrue(retryAfter.matches("[1-9][0-9]*"), "Retry-After: " + retryAfter);
                refused++;
            } else {
                assertEquals(200, response.statusCode(), () -> new String(response.body()));
                BufferedImage image = decode(png(json(response).get("images").get(0)));
                assertEquals(256, image.getWidth());
                admitted++;
            }
        }
        assertTrue(refused > 0, "no request was refused");
        assertTrue(admitted > 0, "no request was admitted");

        assertEquals(200, http.generate(body("prompt", "a cat", "steps", 2)).statusCode(),
                "a drained queue admits work again");
    }
}
