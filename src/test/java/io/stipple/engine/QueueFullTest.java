package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.count;
import static io.stipple.engine.EngineTesting.failure;
import static io.stipple.engine.EngineTesting.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;

/**
 * An engine whose queue holds one job refuses the next, saying when to retry. The test holds the device, so the
 * worker cannot take the first job from the queue before the second comes.
 */
@SpringBootTest(properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.queue.capacity=1"})
class QueueFullTest {
    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @Autowired
    ApplicationContext context;

    @Test
    void fullQueueRefusesWithRetryAfterAndCountsTheRejection() {
        double rejectedBefore = count(registry, "stipple.rejections", "reason", "queue_full");
        Job waiting;
        try (HeldDevice device = HeldDevice.hold(context)) {
            waiting = service.submit(request("waiting", 4, 1), EngineTesting.CLIENT);
            QueueFullException refused = assertThrows(QueueFullException.class,
                    () -> service.submit(request("one too many", 4, 2), EngineTesting.CLIENT));

            assertTrue(refused.retryAfterSeconds() >= 1, "Retry-After " + refused.retryAfterSeconds());
            assertTrue(refused.getMessage().contains("queue is full"), refused.getMessage());
            assertEquals(rejectedBefore + 1, count(registry, "stipple.rejections", "reason", "queue_full"));
            service.cancel(waiting);
        }
        failure(waiting, PATIENCE);
    }
}
