package io.stipple.engine;

import java.util.concurrent.locks.ReentrantLock;
import org.springframework.stereotype.Component;

/**
 * How the served models share the device: their workers take turns, one step (or one admission, or one decode)
 * at a time. The lock is fair, so a worker that wants the device next gets it next: a flood of requests for one
 * model delays another model's steps by one step of the first, never more, and two models never compete for the
 * same cores or accelerator memory at once.
 *
 * <p>One per application, as there is one device: whoever holds a turn, a worker or a test, keeps every model
 * from stepping until it gives the turn back.
 */
@Component
final class ComputeTurns {
    private final ReentrantLock lock = new ReentrantLock(true);

    void take() {
        lock.lock();
    }

    void giveBack() {
        lock.unlock();
    }
}
