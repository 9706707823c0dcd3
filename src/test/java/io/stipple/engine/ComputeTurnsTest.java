package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The models' workers take fair turns on the device: one that waits for it gets it next, even when the worker
 * that gave it back asks again at once. Repeated, since a lock without fairness lets the worker asking again
 * go first most of the time but not every time.
 */
class ComputeTurnsTest {
    private static final int ROUNDS = 100;

    @Test
    void aWaitingWorkerGoesBeforeTheOneThatJustGaveTheDeviceBack() throws InterruptedException {
        ComputeTurns turns = new ComputeTurns();
        for (int round = 0; round < ROUNDS; round++) {
            List<String> order = new CopyOnWriteArrayList<>();
            turns.take();
            Thread waiting = new Thread(() -> {
                turns.take();
                order.add("the waiting worker");
                turns.giveBack();
            });
            waiting.start();
            // Parked in take(): nothing else in that thread can wait.
            await().atMost(PATIENCE).pollInterval(Duration.ofMillis(1))
                    .until(() -> waiting.getState() == Thread.State.WAITING);

            turns.giveBack();
            turns.take();
            order.add("the worker that gave it back");
            turns.giveBack();
            waiting.join(PATIENCE.toMillis());

            assertEquals(List.of("the waiting worker", "the worker that gave it back"), order, "round " + round);
        }
    }
}
