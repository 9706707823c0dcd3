package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.count;
import static io.stipple.engine.EngineTesting.failure;
import static io.stipple.engine.EngineTesting.slow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** An engine with room for one running job and one waiting refuses the next, saying when to retry. */
@SpringBootTest(properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.queue.capacity=1",
        "stipple.batch.max-rows=2"})
class QueueFullTest {
    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;

    @Test
    void fullQueueRefusesWithRetryAfterAndCountsTheRejection() {
        double rejectedBefore = count(registry, "stipple.rejections", "reason", "queue_full");
        List<Job> admitted = new ArrayList<>();
        QueueFullException refused = null;
        // Whether the second or the third job is refused depends on whether the worker has taken the
        // first one from the queue yet.
        while (refused == null && admitted.size() < 3) {
            try {
                admitted.add(service.submit(slow(admitted.size(), 1), EngineTesting.CLIENT));
            } catch (QueueFullException e) {
                refused = e;
            }
        }

        assertNotNull(refused, admitted.size() + " jobs admitted into a queue of one");
        assertTrue(refused.retryAfterSeconds() >= 1, "Retry-After " + refused.retryAfterSeconds());
        assertTrue(refused.getMessage().contains("queue is full"), refused.getMessage());
        assertEquals(rejectedBefore + 1, count(registry, "stipple.rejections", "reason", "queue_full"));
        for (Job job : admitted) {
            service.cancel(job);
            failure(job, PATIENCE);
        }
    }
}
