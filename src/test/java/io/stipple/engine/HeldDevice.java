package io.stipple.engine;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.springframework.context.ApplicationContext;

/**
 * The device held by a test, through the application's own {@link ComputeTurns}: while the test holds it, no
 * model's worker can admit, step or decode, so the test decides when work moves instead of racing it. Requests
 * are still admitted, queued, cancelled and answered at their deadline. Hold and release on one thread.
 */
public final class HeldDevice implements AutoCloseable {
    private final ComputeTurns turns;
    private boolean held;

    private HeldDevice(ComputeTurns turns) {
        this.turns = turns;
    }

    /** Takes the device once the worker using it ends its turn. */
    public static HeldDevice hold(ApplicationContext context) {
        HeldDevice device = new HeldDevice(context.getBean(ComputeTurns.class));
        device.take();
        return device;
    }

    /** Lets the workers run until {@code done} holds (bounded by the engine tests' patience), then takes the device back. */
    public void releaseUntil(Callable<Boolean> done) {
        release();
        try {
            await().atMost(EngineTesting.PATIENCE).pollInterval(Duration.ofMillis(5)).until(done);
        } finally {
            take();
        }
    }

    public void release() {
        if (held) {
            held = false;
            turns.giveBack();
        }
    }

    private void take() {
        turns.take();
        held = true;
    }

    @Override
    public void close() {
        release();
    }
}
