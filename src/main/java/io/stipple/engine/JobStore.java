package io.stipple.engine;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Async jobs by id. Finished jobs stay readable for the retention period while their PNGs fit the
 * memory budget; past either limit the oldest finished jobs are forgotten (and answer 404).
 */
final class JobStore {
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    private final Duration retention;
    private final long budgetBytes;
    private Instant lastEviction = Instant.MIN;

    JobStore(Duration retention, long budgetBytes) {
        this.retention = retention;
        this.budgetBytes = budgetBytes;
    }

    void put(Job job) {
        jobs.put(job.id(), job);
        evict(Instant.now());
    }

    Optional<Job> get(String id) {
        Instant now = Instant.now();
        Job job = jobs.get(id);
        if (job != null && job.finishedAt() != null && job.finishedAt().plus(retention).isBefore(now)) {
            jobs.remove(id);
            return Optional.empty();
        }
        evictAtMostEverySecond(now);
        return Optional.ofNullable(jobs.get(id));
    }

    /** Polling clients read often; the budget sweep sorts every finished job, so it runs once a second at most. */
    private synchronized void evictAtMostEverySecond(Instant now) {
        if (lastEviction.plusSeconds(1).isBefore(now)) {
            evict(now);
        }
    }

    synchronized void evict(Instant now) {
        lastEviction = now;
        jobs.values().removeIf(job -> job.finishedAt() != null && job.finishedAt().plus(retention).isBefore(now));
        List<Job> finished = jobs.values().stream()
                .filter(job -> job.finishedAt() != null)
                .sorted(Comparator.comparing(Job::finishedAt))
                .toList();
        long bytes = finished.stream().mapToLong(Job::resultBytes).sum();
        for (Job oldest : finished) {
            if (bytes <= budgetBytes) {
                break;
            }
            bytes -= oldest.resultBytes();
            jobs.remove(oldest.id());
        }
    }
}
