package io.stipple.engine;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * The engine's policy, and nothing else: from plain facts about waiting jobs and running images it plans each
 * device turn. No tensors here, so the policy is tested without a model.
 *
 * <ul>
 * <li>Admission: waiting jobs join, in the queue's order, while their rows fit beside the rows still denoising
 * (an idle model always takes one job, however large). Jobs thus join and leave at step boundaries, and a job
 * that joins can take its first step in the turn it joins.
 * <li>Stepping: images that share a {@link BatchKey} step together; keys take turns, and within a key the images
 * stepped least recently go first (those joining now last), up to the row cap (one image per call when batching
 * is exact).
 * <li>Decoding: after the step, the images denoised by now, of one size, oldest job first, up to the decode cap per
 * VAE call; so an image is decoded in the turn of its last step.
 * </ul>
 * A call that runs out of memory lowers its cap for good ({@link #lowerRowCap}, {@link #lowerDecodeCap}).
 */
final class StepScheduler {
    private final boolean exact;
    private int rowCap;
    private int decodeCap;
    /** Which key steps next, counted round the keys present at each turn. */
    private long nextKey;

    /**
     * @param maxRows U-Net rows per call, and images per VAE call
     * @param exact   one image per U-Net call, for results bit-identical to a request served alone
     */
    StepScheduler(int maxRows, boolean exact) {
        this.rowCap = maxRows;
        this.decodeCap = maxRows;
        this.exact = exact;
    }

    StepPlan schedule(TurnFacts facts) {
        List<TurnFacts.Waiting> joining = admissions(facts);
        List<TurnFacts.Running> images = Stream.concat(facts.running().stream(),
                joining.stream().flatMap(StepScheduler::imagesOf)).toList();
        List<ImageRef> step = stepBatch(images.stream().filter(image -> !image.denoised()).toList());
        Set<ImageRef> stepping = Set.copyOf(step);
        List<TurnFacts.Running> denoisedAfterStep = images.stream()
                .filter(image -> image.denoised() || image.stepsLeft() == 1 && stepping.contains(image.image()))
                .toList();
        return new StepPlan(joining.stream().map(TurnFacts.Waiting::jobId).toList(), step,
                decodeBatch(denoisedAfterStep));
    }

    private List<TurnFacts.Waiting> admissions(TurnFacts facts) {
        int rows = facts.running().stream().filter(image -> !image.denoised()).mapToInt(TurnFacts.Running::rows).sum();
        List<TurnFacts.Waiting> admitted = new ArrayList<>();
        for (TurnFacts.Waiting job : facts.waiting()) {
            if (rows > 0 && rows + job.rows() > rowCap) {
                break;
            }
            admitted.add(job);
            rows += job.rows();
        }
        return admitted;
    }

    /** A joining job's images, as they will be once started: after every running image in the stepping order. */
    private static Stream<TurnFacts.Running> imagesOf(TurnFacts.Waiting job) {
        return IntStream.range(0, job.images()).mapToObj(index -> new TurnFacts.Running(
                new ImageRef(job.jobId(), index), job.key(), job.rowsPerImage(), Long.MAX_VALUE, job.steps()));
    }

    private List<ImageRef> stepBatch(List<TurnFacts.Running> denoising) {
        List<BatchKey> keys = denoising.stream().map(TurnFacts.Running::key).distinct().toList();
        if (keys.isEmpty()) {
            return List.of();
        }
        BatchKey key = keys.get((int) (nextKey++ % keys.size()));
        List<TurnFacts.Running> candidates = denoising.stream()
                .filter(image -> image.key().equals(key))
                .sorted(Comparator.comparingLong(TurnFacts.Running::lastStepped))
                .toList();
        List<ImageRef> batch = new ArrayList<>();
        int rows = 0;
        for (TurnFacts.Running candidate : candidates) {
            if (!batch.isEmpty() && (exact || rows + candidate.rows() > rowCap)) {
                break;
            }
            batch.add(candidate.image());
            rows += candidate.rows();
        }
        return batch;
    }

    /** The oldest denoised image and those of its size after it, up to the cap: one VAE call takes one size. */
    private List<ImageRef> decodeBatch(List<TurnFacts.Running> denoised) {
        if (denoised.isEmpty()) {
            return List.of();
        }
        BatchKey key = denoised.get(0).key();
        return denoised.stream()
                .filter(image -> image.key().equals(key))
                .limit(decodeCap)
                .map(TurnFacts.Running::image)
                .toList();
    }

    /** A U-Net call of {@code rows} rows ran out of memory: later calls take at most half as many. */
    int lowerRowCap(int rows) {
        rowCap = Math.max(1, Math.min(rowCap, rows / 2));
        return rowCap;
    }

    /** A VAE call of {@code images} images ran out of memory: later calls take at most half as many. */
    int lowerDecodeCap(int images) {
        decodeCap = Math.max(1, Math.min(decodeCap, images / 2));
        return decodeCap;
    }
}
