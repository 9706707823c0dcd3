package io.stipple.engine;

import ai.djl.pytorch.jni.JniUtils;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.GenerationRequest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The thread that owns one model. It warms the model up, then turns, as vLLM's engine core steps:
 * {@link StepScheduler schedule} a turn from plain facts, {@link StepExecutor execute} it on the device, and
 * {@link JobOutcomes update} the jobs from what came of it. Between turns it drops cancelled and expired jobs,
 * and when it is stopped it finishes what it can before the deadline and fails the rest.
 *
 * <p>The device is held ({@link ComputeTurns}) only while a turn is planned and executed: at most one text-encoding
 * call, one VAE call and one U-Net call (more only while a failure is isolated), so another model waits for no more
 * than that.
 */
final class EngineLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(EngineLoop.class);
    private static final long IDLE_WAIT_MILLIS = 100;

    private final LoadedPipeline models;
    private final AdmissionQueue queue;
    private final StepScheduler scheduler;
    private final StepExecutor executor;
    private final RunningJobs running;
    private final JobOutcomes outcomes;
    private final ComputeTurns turns;
    private volatile long stopDeadlineNanos = Long.MAX_VALUE;
    private volatile boolean stopping;
    private volatile boolean warm;

    EngineLoop(LoadedPipeline models, AdmissionQueue queue, StepScheduler scheduler, StepExecutor executor,
            RunningJobs running, JobOutcomes outcomes, ComputeTurns turns) {
        this.models = models;
        this.queue = queue;
        this.scheduler = scheduler;
        this.executor = executor;
        this.running = running;
        this.outcomes = outcomes;
        this.turns = turns;
    }

    /** Whether the worker has run the model once at its default size (readiness waits for it). */
    boolean warm() {
        return warm;
    }

    /** Stop admitting; finish what is in flight until {@code deadlineNanos}, then fail the rest. */
    void stop(long deadlineNanos) {
        stopDeadlineNanos = deadlineNanos;
        stopping = true;
        queue.close();
    }

    @Override
    public void run() {
        // The graph executor setting is thread-local, and re-optimizing for every new batch shape costs
        // more than it gains (docs/BENCHMARKS.md).
        JniUtils.setGraphExecutorOptimize(false);
        warmUp();
        try {
            while (true) {
                if (stopping && System.nanoTime() - stopDeadlineNanos > 0) {
                    outcomes.failEverything(queue);
                    return;
                }
                if (!turn()) {
                    if (stopping && queue.size() == 0) {
                        return;
                    }
                    queue.awaitWork(IDLE_WAIT_MILLIS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            outcomes.failEverything(queue);
        } catch (RuntimeException | Error e) {
            log.error("The engine loop of \"{}\" died", models.spec().name(), e);
            outcomes.failEverything(queue);
            throw e;
        }
    }

    /**
     * One turn: schedule → execute → update. The device is held from planning to the end of execution, so that a
     * plan is made on fresh facts and nothing is taken from the queue while another holds the device. False when
     * there was nothing to do.
     */
    private boolean turn() {
        List<Job> joining;
        TurnOutcome outcome;
        long takenNanos;
        turns.take();
        try {
            outcomes.dropCancelledAndExpired(queue, System.nanoTime());
            StepPlan plan = scheduler.schedule(new TurnFacts(waiting(), running.facts()));
            if (plan.isEmpty()) {
                return false;
            }
            joining = queue.take(plan.admit());
            takenNanos = System.nanoTime();
            outcome = executor.execute(new TurnWork(
                    joining.stream().map(job -> new TurnWork.Joining(job.id(), job.request())).toList(),
                    plan.step(), plan.decode(), running::image));
        } finally {
            turns.giveBack();
        }
        if (!joining.isEmpty()) {
            outcomes.queueMoved(queue);
        }
        if (outcome.stepOutOfMemoryAt() > 0) {
            log.warn("A U-Net call over {} rows ran out of memory; at most {} rows per call from now on",
                    outcome.stepOutOfMemoryAt(), scheduler.lowerRowCap(outcome.stepOutOfMemoryAt()));
        }
        if (outcome.decodeOutOfMemoryAt() > 0) {
            log.warn("A VAE call over {} images ran out of memory; at most {} images per call from now on",
                    outcome.decodeOutOfMemoryAt(), scheduler.lowerDecodeCap(outcome.decodeOutOfMemoryAt()));
        }
        outcomes.apply(joining, takenNanos, outcome);
        return true;
    }

    private List<TurnFacts.Waiting> waiting() {
        PipelineSpec spec = models.spec();
        return queue.snapshot().stream().map(job -> {
            GenerationRequest request = job.request();
            return new TurnFacts.Waiting(job.id(), request.imageCount(), request.guidance().rows(),
                    BatchKey.of(spec.latentShape(1, request.width(), request.height())), job.walkedSteps());
        }).toList();
    }

    /** Requests that arrive meanwhile wait in the queue; a model that fails here still serves other sizes. */
    private void warmUp() {
        PipelineSpec spec = models.spec();
        turns.take();
        try {
            log.info("Warmed up \"{}\" at its default size {}x{} in {} ms", spec.name(), spec.defaultWidth(),
                    spec.defaultHeight(), Math.round(models.warmUp()));
        } catch (RuntimeException e) {
            ErrorLog.write(log, "The model failed at its default size " + spec.defaultWidth() + "x"
                    + spec.defaultHeight() + " while warming up", e);
        } finally {
            turns.giveBack();
        }
        warm = true;
    }
}
