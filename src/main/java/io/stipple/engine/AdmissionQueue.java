package io.stipple.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded line of jobs waiting for the model, shared fairly between clients. It knows nothing of the
 * model: the engine takes jobs from its head when it has room for them.
 *
 * <p>It is bounded twice: by jobs ({@code stipple.queue.capacity}) and by the work they wait with
 * ({@code stipple.queue.max-work}, in {@link io.stipple.pipeline.GenerationRequest#workUnits work units}), so
 * that a few huge requests cannot fill it with hours of work that a count of requests would let in. A job
 * is always admitted into an empty queue, else a request larger than the work bound could never run.
 *
 * <p>The order is start-time fair queuing (Goyal, Vin and Cheng, 1996) over work units: a job's start tag
 * is the later of the queue's virtual time and the finish tag of its client's previous job, and the job with
 * the smallest tag goes first. A client that floods the queue therefore waits behind its own work, and the
 * clients with jobs waiting share the model in proportion to work, not to requests: a client sending 8-image
 * requests gets one served for every eight 1-image requests of another. While each client has a single job
 * waiting, it is first come, first served.
 */
final class AdmissionQueue {
    private static final Comparator<Waiting> ORDER =
            Comparator.comparingLong(Waiting::startTag).thenComparingLong(Waiting::arrival);

    private final int capacity;
    private final long workCapacity;
    private final TreeSet<Waiting> waiting = new TreeSet<>(ORDER);
    private final Map<Job, Waiting> entries = new HashMap<>();
    /** Each client's latest finish tag, while it is still ahead of the virtual time. */
    private final Map<String, Long> finishTags = new HashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** The start tag of the job served last. */
    private long virtualTime;
    private long arrivals;
    private long work;
    private boolean closed;

    private record Waiting(Job job, long startTag, long arrival) {
    }

    AdmissionQueue(int capacity, long workCapacity) {
        this.capacity = capacity;
        this.workCapacity = workCapacity;
    }

    /** Adds a job in its client's fair place; returns its 1-based position. */
    int add(Job job, long retryAfterSeconds) {
        lock.lock();
        try {
            if (closed) {
                throw new NotAcceptingException("The server is shutting down and takes no new requests");
            }
            if (waiting.size() >= capacity) {
                throw QueueFullException.jobs(capacity, retryAfterSeconds);
            }
            if (!waiting.isEmpty() && work + job.work() > workCapacity) {
                throw QueueFullException.work(work, workCapacity, job.work(), retryAfterSeconds);
            }
            long startTag = Math.max(virtualTime, finishTags.getOrDefault(job.client(), 0L));
            finishTags.put(job.client(), startTag + job.work());
            Waiting entry = new Waiting(job, startTag, arrivals++);
            waiting.add(entry);
            entries.put(job, entry);
            work += job.work();
            changed.signalAll();
            return waiting.headSet(entry).size() + 1;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes the jobs {@code ids} names that are still waiting (one cancelled meanwhile is not), in that order; the
     * virtual time moves on to the latest start tag taken.
     */
    List<Job> take(List<String> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        lock.lock();
        try {
            Map<String, Waiting> byId = new HashMap<>();
            waiting.forEach(entry -> byId.put(entry.job().id(), entry));
            List<Job> taken = new ArrayList<>();
            for (String id : ids) {
                Waiting entry = byId.get(id);
                if (entry != null) {
                    waiting.remove(entry);
                    forget(entry);
                    virtualTime = Math.max(virtualTime, entry.startTag());
                    taken.add(entry.job());
                }
            }
            // A finish tag behind the virtual time no longer changes where its client's next job starts.
            finishTags.values().removeIf(finish -> finish <= virtualTime);
            return taken;
        } finally {
            lock.unlock();
        }
    }

    private void forget(Waiting entry) {
        entries.remove(entry.job());
        work -= entry.job().work();
    }

    boolean remove(Job job) {
        lock.lock();
        try {
            Waiting entry = entries.get(job);
            if (entry == null) {
                return false;
            }
            waiting.remove(entry);
            forget(entry);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Removes and returns the jobs whose deadline has passed or whose cancellation was asked for. */
    List<Job> removeExpiredOrCancelled(long nowNanos) {
        lock.lock();
        try {
            List<Job> removed = new ArrayList<>();
            for (Iterator<Waiting> it = waiting.iterator(); it.hasNext(); ) {
                Waiting entry = it.next();
                if (entry.job().cancelRequested() || entry.job().expiredAt(nowNanos)) {
                    it.remove();
                    forget(entry);
                    removed.add(entry.job());
                }
            }
            return removed;
        } finally {
            lock.unlock();
        }
    }

    /** 1-based position, or 0 when the job is not waiting. */
    int position(Job job) {
        lock.lock();
        try {
            Waiting entry = entries.get(job);
            return entry == null ? 0 : waiting.headSet(entry).size() + 1;
        } finally {
            lock.unlock();
        }
    }

    /** The waiting jobs in the order they will be served, as things stand. */
    List<Job> snapshot() {
        lock.lock();
        try {
            return waiting.stream().map(Waiting::job).toList();
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

    /** Work units waiting. */
    long work() {
        lock.lock();
        try {
            return work;
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
            List<Job> all = snapshot();
            waiting.clear();
            entries.clear();
            work = 0;
            return all;
        } finally {
            lock.unlock();
        }
    }
}
