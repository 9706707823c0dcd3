package io.stipple.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded line of jobs waiting for the model. It knows nothing of the model: the step batcher
 * takes jobs from its head when it has room for them.
 */
final class AdmissionQueue {
    private final int capacity;
    private final Deque<Job> waiting = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean closed;

    AdmissionQueue(int capacity) {
        this.capacity = capacity;
    }

    int capacity() {
        return capacity;
    }

    /** Adds a job at the tail; returns its 1-based position. */
    int add(Job job, long retryAfterSeconds) {
        lock.lock();
        try {
            if (closed) {
                throw new NotAcceptingException("The server is shutting down and takes no new requests");
            }
            if (waiting.size() >= capacity) {
                throw new QueueFullException(capacity, retryAfterSeconds);
            }
            waiting.addLast(job);
            changed.signalAll();
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** The head job, if {@code fits} accepts it; removed from the queue. */
    Job pollIf(Predicate<Job> fits) {
        lock.lock();
        try {
            Job head = waiting.peekFirst();
            if (head == null || !fits.test(head)) {
                return null;
            }
            return waiting.pollFirst();
        } finally {
            lock.unlock();
        }
    }

    boolean remove(Job job) {
        lock.lock();
        try {
            return waiting.remove(job);
        } finally {
            lock.unlock();
        }
    }

    /** Removes and returns the jobs whose deadline has passed or whose cancellation was asked for. */
    List<Job> removeExpiredOrCancelled(long nowNanos) {
        lock.lock();
        try {
            List<Job> removed = new ArrayList<>();
            waiting.removeIf(job -> {
                boolean drop = job.cancelRequested() || job.expiredAt(nowNanos);
                if (drop) {
                    removed.add(job);
                }
                return drop;
            });
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /** 1-based position, or 0 when the job is not waiting. */
    int position(Job job) {
        lock.lock();
        try {
            int position = 1;
            for (Job waitingJob : waiting) {
                if (waitingJob == job) {
                    return position;
                }
                position++;
            }
            return 0;
        } finally {
            lock.unlock();
        }
    }

    List<Job> snapshot() {
        lock.lock();
        try {
            return List.copyOf(waiting);
        } finally {
            lock.unlock();
        }
    }

    int size() {
        lock.lock();
        try {
            return waiting.size();
        } finally {
            lock.unlock();
        }
    }

    /** Blocks the idle worker until a job arrives, the queue closes, or the timeout passes. */
    void awaitWork(long timeoutMillis) throws InterruptedException {
        lock.lock();
        try {
            if (waiting.isEmpty() && !closed) {
                changed.await(timeoutMillis, TimeUnit.MILLISECONDS);
            }
        } finally {
            lock.unlock();
        }
    }

    /** Stops admitting; the jobs already waiting stay for the worker to finish or cancel. */
    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    List<Job> drain() {
        lock.lock();
        try {
            List<Job> all = new ArrayList<>(waiting);
            waiting.clear();
            return all;
        } finally {
            lock.unlock();
        }
    }
}
