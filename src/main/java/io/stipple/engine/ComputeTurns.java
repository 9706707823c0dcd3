package io.stipple.engine;

import java.util.concurrent.locks.ReentrantLock;
import org.springframework.stereotype.Component;

/**
 * How the served models share the device: their engine loops take turns, each holding it while one planned turn
 * executes (the joining jobs' text encoding, one VAE call, one U-Net step; a failure being isolated adds its
 * retries) and for warm-up. The lock is fair, so a loop that wants the device next gets it next: a flood of
 * requests for one model delays another model's turn by at most one turn of the first, and two models never
 * compete for the same cores or accelerator memory at once.
 *
 * <p>One per application, as there is one device: whoever holds a turn, an engine loop or a test, keeps every model
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
