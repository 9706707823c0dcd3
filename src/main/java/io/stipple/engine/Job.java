package io.stipple.engine;

import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admitted request and everything a client may ask about it: status, progress, the result or the
 * failure, and a stream of {@link JobEvent}s. The engine moves it through its states; any thread may
 * read it, subscribe to it or ask to cancel it.
 */
public final class Job {
    private static final Logger log = LoggerFactory.getLogger(Job.class);

    private final String id;
    private final GenerationRequest request;
    private final String client;
    private final int walkedSteps;
    private final long work;
    private final long admittedNanos;
    private final long deadlineNanos;
    private final Instant createdAt = Instant.now();
    private final CompletableFuture<GenerationResult> completion = new CompletableFuture<>();
    private final List<Consumer<JobEvent>> listeners = new CopyOnWriteArrayList<>();

    private volatile JobStatus status = JobStatus.QUEUED;
    private volatile int step;
    private volatile int steps;
    private volatile boolean cancelRequested;
    private volatile boolean previewsAsked;
    private volatile byte[] latestPreview;
    /** The step of the latest preview that went out; guarded by {@code this}. */
    private int previewStep = -1;
    private volatile GenerationResult result;
    private volatile JobFailure failure;
    private volatile Instant finishedAt;

    /**
     * @param walkedSteps the steps each image takes (image-to-image walks only part of the schedule)
     * @param work        {@link GenerationRequest#workUnits work units}: what the job costs the model
     */
    Job(String id, GenerationRequest request, String client, int walkedSteps, long work, long admittedNanos,
            long deadlineNanos) {
        this.id = id;
        this.request = request;
        this.client = client;
        this.walkedSteps = walkedSteps;
        this.work = work;
        this.admittedNanos = admittedNanos;
        this.deadlineNanos = deadlineNanos;
        this.steps = request.steps();
    }

    public String id() {
        return id;
    }

    public GenerationRequest request() {
        return request;
    }

    /** Who asked: the API key's or token's name, or the caller's address when access control is off. */
    public String client() {
        return client;
    }

    /** {@link GenerationRequest#workUnits Work units}: what the job costs the model. */
    long work() {
        return work;
    }

    /** The steps each of its images takes. */
    int walkedSteps() {
        return walkedSteps;
    }

    public Instant createdAt() {
        return createdAt;
    }

    public JobStatus status() {
        return status;
    }

    public int step() {
        return step;
    }

    public int steps() {
        return steps;
    }

    public byte[] latestPreview() {
        return latestPreview;
    }

    /** The result once {@link JobStatus#SUCCEEDED}, else null. */
    public GenerationResult result() {
        return result;
    }

    /** The failure once {@link JobStatus#FAILED}, else null. */
    public JobFailure failure() {
        return failure;
    }

    public Instant finishedAt() {
        return finishedAt;
    }

    /** Completes with the result, or exceptionally with {@link JobFailedException} or {@link JobCancelledException}. */
    public CompletableFuture<GenerationResult> completion() {
        return completion;
    }

    long admittedNanos() {
        return admittedNanos;
    }

    boolean expiredAt(long nanos) {
        return nanos - deadlineNanos > 0;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    /**
     * Registers a listener and returns it the events that describe the job so far, in one atomic step,
     * so that a subscriber neither misses an event nor sees one twice.
     */
    public synchronized JobEvent subscribe(Consumer<JobEvent> listener) {
        if (!status.terminal()) {
            listeners.add(listener);
        }
        return snapshot();
    }

    public void unsubscribe(Consumer<JobEvent> listener) {
        listeners.remove(listener);
    }

    /**
     * Previews cost work on the model's thread; they are made only for jobs someone watches: a subscriber to its
     * events, or a client that asked for the latest preview ({@link #askForPreviews()}).
     */
    boolean wantsPreviews() {
        return previewsAsked || !listeners.isEmpty();
    }

    /** A client polling for the job's progress wants its latest preview from now on. */
    public void askForPreviews() {
        previewsAsked = true;
    }

    private JobEvent snapshot() {
        return switch (status) {
            case QUEUED -> new JobEvent.Queued(-1);
            case RUNNING -> new JobEvent.Progress(step, steps, latestPreview);
            case SUCCEEDED -> new JobEvent.Succeeded(result);
            case FAILED -> new JobEvent.Failed(failure);
            case CANCELLED -> new JobEvent.Cancelled();
        };
    }

    void started(int trajectoryLength) {
        steps = trajectoryLength;
        publish(() -> status = JobStatus.RUNNING, new JobEvent.Progress(0, trajectoryLength, null));
    }

    void progressed(int completedSteps, byte[] preview) {
        if (preview != null) {
            latestPreview = preview;
        }
        publish(() -> step = completedSteps, new JobEvent.Progress(completedSteps, steps, preview));
    }

    /**
     * A preview, rendered off the model's thread after its step was announced and often after later ones
     * too. It goes out as a progress event at the step announced last, so that subscribers never see the
     * steps go backwards, and not at all if a later preview went out first.
     */
    synchronized void previewed(int atStep, byte[] preview) {
        if (status.terminal() || atStep <= previewStep) {
            return;
        }
        previewStep = atStep;
        latestPreview = preview;
        deliver(new JobEvent.Progress(step, steps, preview));
    }

    boolean succeed(GenerationResult generated) {
        return finish(JobStatus.SUCCEEDED, () -> result = generated, new JobEvent.Succeeded(generated),
                () -> completion.complete(generated));
    }

    boolean fail(JobFailure why, Throwable cause) {
        return finish(JobStatus.FAILED, () -> failure = why, new JobEvent.Failed(why),
                () -> completion.completeExceptionally(new JobFailedException(why, cause)));
    }

    boolean cancel() {
        return finish(JobStatus.CANCELLED, () -> { }, new JobEvent.Cancelled(),
                () -> completion.completeExceptionally(new JobCancelledException(id)));
    }

    private boolean finish(JobStatus terminal, Runnable record, JobEvent event, Runnable complete) {
        synchronized (this) {
            if (status.terminal()) {
                return false;
            }
            record.run();
            finishedAt = Instant.now();
            status = terminal;
            deliver(event);
            listeners.clear();
        }
        complete.run();
        return true;
    }

    private synchronized void publish(Runnable update, JobEvent event) {
        if (status.terminal()) {
            return;
        }
        update.run();
        deliver(event);
    }

    /**
     * Events are delivered on the engine's threads, the model's own among them: a subscriber that throws
     * (an event stream whose client has gone, say) is dropped, and neither the job nor the engine notices.
     */
    private void deliver(JobEvent event) {
        for (Consumer<JobEvent> listener : listeners) {
            try {
                listener.accept(event);
            } catch (RuntimeException e) {
                listeners.remove(listener);
                log.warn("Dropped a subscriber of job {} that failed on {}", id, event.getClass().getSimpleName(), e);
            }
        }
    }

    /** Queue position announcements come from the admission queue, which knows the order. */
    synchronized void announceQueued(int position) {
        if (status == JobStatus.QUEUED) {
            deliver(new JobEvent.Queued(position));
        }
    }

    long resultBytes() {
        GenerationResult done = result;
        return done == null ? 0 : done.images().stream().mapToLong(image -> image.png().length).sum();
    }
}
