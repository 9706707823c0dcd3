package io.stipple.engine;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one device call over a batch whose items belong to jobs, so that a failure fails only the job that caused
 * it: a call that fails is retried as two halves (the jobs split between them, a job never split), down to the
 * one job whose input the model cannot take. A call that runs out of memory is retried in halves even within one
 * job, and says so, so that the caller can make later calls smaller.
 *
 * @param <T> an item of the batch: a job joining, or an image
 */
final class FailureIsolation<T> {
    private static final Logger log = LoggerFactory.getLogger(FailureIsolation.class);

    private final String call;
    private final Function<T, String> owner;
    private final ToIntFunction<T> rows;

    /**
     * @param call  what the call is, for the log: "A U-Net step", "VAE decoding", ...
     * @param owner the id of the job an item belongs to
     * @param rows  what an item weighs in the call (U-Net rows, images, prompts)
     */
    FailureIsolation(String call, Function<T, String> owner, ToIntFunction<T> rows) {
        this.call = call;
        this.owner = owner;
        this.rows = rows;
    }

    /** The parts of a batch that ran, with what the call gave for each. */
    record Part<T, R>(List<T> items, R result) {
    }

    /**
     * @param outOfMemoryAt the fewest rows of a call that ran out of memory, 0 if none did
     */
    record Outcome<T, R>(List<Part<T, R>> done, List<JobError> failed, int outOfMemoryAt) {
    }

    <R> Outcome<T, R> run(List<T> batch, Function<List<T>, R> work) {
        Attempts<R> attempts = new Attempts<>();
        if (!batch.isEmpty()) {
            attempt(batch, work, attempts);
        }
        return new Outcome<>(attempts.done, attempts.failed, attempts.outOfMemoryAt);
    }

    private final class Attempts<R> {
        final List<Part<T, R>> done = new ArrayList<>();
        final List<JobError> failed = new ArrayList<>();
        int outOfMemoryAt;
    }

    private <R> void attempt(List<T> batch, Function<List<T>, R> work, Attempts<R> attempts) {
        int weight = batch.stream().mapToInt(rows).sum();
        try {
            attempts.done.add(new Part<>(batch, work.apply(batch)));
        } catch (RuntimeException e) {
            boolean outOfMemory = TorchError.outOfMemory(e);
            List<String> owners = batch.stream().map(owner).distinct().toList();
            if (owners.size() == 1 && !(outOfMemory && batch.size() > 1)) {
                JobFailure failure = JobFailure.logged(JobFailure.Reason.MODEL_ERROR, log,
                        call + " over " + weight + " rows of job " + owners.get(0) + " failed", e);
                attempts.failed.add(new JobError(owners.get(0), failure, e));
                return;
            }
            if (outOfMemory) {
                // the caller makes later calls smaller, and says so
                attempts.outOfMemoryAt = attempts.outOfMemoryAt == 0 ? weight : Math.min(attempts.outOfMemoryAt, weight);
            } else {
                log.warn("{} over {} rows of {} jobs failed ({}); retrying them in two halves", call, weight,
                        owners.size(), TorchError.summary(e));
            }
            List<List<T>> halves = owners.size() == 1
                    ? List.of(batch.subList(0, batch.size() / 2), batch.subList(batch.size() / 2, batch.size()))
                    : halvesByOwner(batch, owners);
            attempt(halves.get(0), work, attempts);
            attempt(halves.get(1), work, attempts);
        }
    }

    /** The items of the first half of {@code owners}, then those of the second. */
    private List<List<T>> halvesByOwner(List<T> batch, List<String> owners) {
        Set<String> first = new LinkedHashSet<>(owners.subList(0, owners.size() / 2));
        return List.of(batch.stream().filter(item -> first.contains(owner.apply(item))).toList(),
                batch.stream().filter(item -> !first.contains(owner.apply(item))).toList());
    }
}
