package io.stipple.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The admission queue's order (start-time fair queuing over work units) and bounds, on jobs with hand-set
 * work. Each expected order is worked out from the tags: a job starts at the later of the virtual time
 * (the start tag of the job served last) and its client's previous finish tag, and finishes its work later.
 */
class AdmissionQueueTest {
    private static final long FAR_FUTURE = Long.MAX_VALUE / 2;
    private int ids;

    private Job job(String client, long work) {
        return new Job(client + (++ids), EngineTesting.request("queued", 4, ids), client, 4, work, 0, FAR_FUTURE);
    }

    private static List<String> drain(AdmissionQueue queue) {
        List<String> order = new ArrayList<>();
        while (queue.size() > 0) {
            order.add(take(queue));
        }
        return order;
    }

    /** Takes the head, as the engine takes the jobs it planned from the queue's snapshot. */
    private static String take(AdmissionQueue queue) {
        return queue.take(List.of(queue.snapshot().get(0).id())).get(0).id();
    }

    @Test
    void aFloodingClientWaitsBehindItsOwnWork() {
        AdmissionQueue queue = new AdmissionQueue(32, 1_000);
        for (int i = 0; i < 4; i++) {
            assertEquals(i + 1, queue.add(job("heavy", 10), 1));         // tags 0, 10, 20, 30
        }
        Job light = job("light", 10);
        assertEquals(2, queue.add(light, 1), "tag 0 as the first heavy job, but it came later");
        assertEquals(2, queue.position(light));

        assertEquals("heavy1", take(queue));                              // virtual time 0
        assertEquals("light5", take(queue));
        assertEquals(2, queue.add(job("light", 10), 1), "tag 10: after heavy2, which has tag 10 and came first");
        assertEquals(List.of("heavy2", "light6", "heavy3", "heavy4"), drain(queue));
    }

    @Test
    void clientsShareTheModelByWorkNotByRequests() {
        AdmissionQueue queue = new AdmissionQueue(32, 1_000);
        queue.add(job("big", 80), 1);                                     // tags 0 and 80
        queue.add(job("big", 80), 1);
        for (int i = 0; i < 8; i++) {
            queue.add(job("small", 10), 1);                               // tags 0, 10, ... 70
        }
        assertEquals(List.of("big1", "small3", "small4", "small5", "small6", "small7", "small8", "small9",
                "small10", "big2"), drain(queue));
    }

    @Test
    void aClientGetsNoCreditForTimeItWasIdle() {
        AdmissionQueue queue = new AdmissionQueue(32, 1_000);
        queue.add(job("returning", 10), 1);
        assertEquals("returning1", take(queue));
        for (int i = 0; i < 5; i++) {
            queue.add(job("steady", 10), 1);                              // tags 0 ... 40
        }
        assertEquals(List.of("steady2", "steady3", "steady4", "steady5", "steady6"), drain(queue));

        queue.add(job("steady", 10), 1);                                  // virtual time 40: tag max(40, 50) = 50
        for (int i = 0; i < 3; i++) {
            queue.add(job("returning", 10), 1);                           // tags 40, 50, 60, not 10, 20, 30
        }
        assertEquals(List.of("returning8", "steady7", "returning9", "returning10"), drain(queue));
    }

    @Test
    void boundsTheWorkWaitingButAlwaysAdmitsIntoAnEmptyQueue() {
        AdmissionQueue queue = new AdmissionQueue(32, 100);
        queue.add(job("a", 150), 1);
        QueueFullException full = assertThrows(QueueFullException.class, () -> queue.add(job("b", 1), 7));
        assertEquals("The generation queue is full: 150 of its 100 work units are taken and this request needs 1 "
                + "(work units: latent pixels × steps × U-Net rows); retry in about 7 s", full.getMessage());
        assertEquals(7, full.retryAfterSeconds());

        drain(queue);
        queue.add(job("a", 60), 1);
        Job removed = job("a", 40);
        queue.add(removed, 1);
        assertThrows(QueueFullException.class, () -> queue.add(job("b", 1), 1));
        queue.remove(removed);
        assertEquals(60, queue.work(), "a removed job gives its work back");
        queue.add(job("b", 40), 1);
        assertEquals(100, queue.work());
    }

    @Test
    void boundsTheJobsWaiting() {
        AdmissionQueue queue = new AdmissionQueue(2, 1_000);
        queue.add(job("a", 1), 1);
        queue.add(job("b", 1), 1);
        QueueFullException full = assertThrows(QueueFullException.class, () -> queue.add(job("c", 1), 3));
        assertEquals("The generation queue is full (2 requests waiting); retry in about 3 s", full.getMessage());
    }

    @Test
    void takesTheNamedJobsThatAreStillWaiting() {
        AdmissionQueue queue = new AdmissionQueue(32, 1_000);
        Job a = job("a", 50);
        Job b = job("b", 1);
        Job c = job("c", 1);
        queue.add(a, 1);
        queue.add(b, 1);
        queue.add(c, 1);
        assertTrue(queue.remove(b), "cancelled after the engine planned to take it");
        assertEquals(List.of(a, c), queue.take(List.of(a.id(), b.id(), c.id())));
        assertEquals(0, queue.size());
        assertEquals(0, queue.work());
    }
}
