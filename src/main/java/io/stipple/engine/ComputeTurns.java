package io.stipple.engine;

import java.util.concurrent.locks.ReentrantLock;

/**
 * How the served models share the device: their workers take turns, one step (or one admission, or one decode)
 * at a time. The lock is fair, so a worker that wants the device next gets it next: a flood of requests for one
 * model delays another model's steps by one step of the first, never more, and two models never compete for the
 * same cores or accelerator memory at once.
 */
final class ComputeTurns {
    private final ReentrantLock lock = new ReentrantLock(true);

    void take() {
        lock.lock();
    }

    void giveBack() {
        lock.unlock();
    }
}
