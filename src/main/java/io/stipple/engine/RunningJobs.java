package io.stipple.engine;

import io.stipple.pipeline.DenoisingImage;
import io.stipple.sampling.Trajectory;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs on the model, in the order they were admitted: what the scheduler's facts are read from and what the
 * executor's images are looked up in. Only the model's worker thread touches it; the gauges are read by others.
 */
final class RunningJobs {
    private final Map<String, ActiveJob> byId = new LinkedHashMap<>();
    /** Counts the U-Net steps taken, so that images can be stepped least recently first. */
    private long turn;
    private volatile int images;
    private volatile int rows;

    void add(ActiveJob job) {
        byId.put(job.job.id(), job);
        updateGauges();
    }

    ActiveJob get(String jobId) {
        return byId.get(jobId);
    }

    Collection<ActiveJob> all() {
        return List.copyOf(byId.values());
    }

    boolean isEmpty() {
        return byId.isEmpty();
    }

    /** Takes the job off the model and releases its tensors; false if it was not on it. */
    boolean remove(ActiveJob job) {
        if (byId.remove(job.job.id(), job)) {
            job.tensors.release();
            updateGauges();
            return true;
        }
        return false;
    }

    long turn() {
        return turn;
    }

    /** The images not yet decoded, job by job. */
    List<TurnFacts.Running> facts() {
        List<TurnFacts.Running> facts = new ArrayList<>();
        for (ActiveJob job : byId.values()) {
            for (int i = 0; i < job.images().size(); i++) {
                if (!job.decoded(i)) {
                    Trajectory walk = job.image(i).trajectory();
                    facts.add(new TurnFacts.Running(new ImageRef(job.job.id(), i), job.key, job.image(i).rows(),
                            job.lastStepped(i), walk.length() - walk.completedSteps()));
                }
            }
        }
        return facts;
    }

    /** The image {@code ref} names, or null when its job is not on the model. */
    DenoisingImage image(ImageRef ref) {
        ActiveJob job = byId.get(ref.jobId());
        return job == null ? null : job.image(ref.index());
    }

    /** Records the step just taken by {@code refs}; returns the jobs they belong to, in order. */
    List<ActiveJob> stepped(List<ImageRef> refs, long nowNanos) {
        turn++;
        List<ActiveJob> owners = new ArrayList<>();
        for (ImageRef ref : refs) {
            ActiveJob job = byId.get(ref.jobId());
            if (job != null) {
                job.stepped(ref.index(), turn, nowNanos);
                if (!owners.contains(job)) {
                    owners.add(job);
                }
            }
        }
        updateGauges();
        return owners;
    }

    /**
     * Stores a decoded image of a job still on the model; true when it was the job's last, which then leaves the
     * model (its tensors released; its pixels stay with it).
     */
    boolean decoded(ImageRef ref, BufferedImage pixels) {
        ActiveJob job = byId.get(ref.jobId());
        boolean complete = job != null && job.decoded(ref.index(), pixels) && remove(job);
        updateGauges();
        return complete;
    }

    /** Images on the model that are not yet decoded. */
    int images() {
        return images;
    }

    /** The U-Net rows those images need per step. */
    int rows() {
        return rows;
    }

    private void updateGauges() {
        List<TurnFacts.Running> facts = facts();
        images = facts.size();
        rows = facts.stream().mapToInt(TurnFacts.Running::rows).sum();
    }
}
