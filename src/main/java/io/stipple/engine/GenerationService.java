package io.stipple.engine;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.config.StippleProperties;
import io.stipple.model.ModelCapabilities;
import io.stipple.model.ServedModel;
import io.stipple.model.ServedModels;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.Guidance;
import io.stipple.pipeline.LatentDiffusion;
import io.stipple.pipeline.LatentPreview;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Service;

/**
 * The engine's front door: admits requests into their model's bounded queue within their client's quotas,
 * hands out jobs, cancels them, and runs one {@link EngineLoop} per served model on the thread that owns that
 * model; the models take turns on the device ({@link ComputeTurns}). HTTP threads never call a model.
 *
 * <p>It stops before the web server does: new requests are refused (503), admitted ones are finished
 * within {@code stipple.shutdown.grace} and the rest answered with a 503, so every admitted request
 * gets an answer while its connection is still open.
 */
@Service
public class GenerationService implements SmartLifecycle {
    private final Map<String, ModelWorker> workers = new LinkedHashMap<>();
    private final ClientQuotas quotas;
    private final JobStore jobs;
    /** Admitted and not finished, in admission order: what a caller asking "how is it going" may mean. */
    private final Set<Job> unfinished = ConcurrentHashMap.newKeySet();
    private final ExecutorService encoders;
    /** Answers a request at its deadline even while the worker is inside one long U-Net or VAE call. */
    private final ScheduledThreadPoolExecutor deadlines;
    private final Duration timeout;
    private final Duration grace;
    private volatile boolean running;

    public GenerationService(ServedModels models, StippleProperties properties, MeterRegistry registry,
            ComputeTurns turns, InstantSource clock) {
        this.quotas = new ClientQuotas(properties.clients().requestsPerMinute(), properties.clients().concurrentImages(),
                clock);
        this.jobs = new JobStore(properties.jobs().retention(), properties.jobs().resultsBudget().toBytes());
        this.timeout = properties.request().timeout();
        this.grace = properties.shutdown().grace();
        this.encoders = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors() - 1),
                runnable -> daemon(runnable, "stipple-encoder"));
        this.deadlines = new ScheduledThreadPoolExecutor(1, runnable -> daemon(runnable, "stipple-deadlines"));
        this.deadlines.setRemoveOnCancelPolicy(true);
        EngineMetrics.registerProcessMeters(registry);
        for (ServedModel model : models.all()) {
            workers.put(model.name(), worker(model, properties, registry, turns, models.all().size() == 1));
        }
    }

    /**
     * Each model's queue holds {@code stipple.queue.capacity} jobs and, unless {@code max-work} is set, as much
     * work as that many of its own default requests.
     */
    private ModelWorker worker(ServedModel model, StippleProperties properties, MeterRegistry registry,
            ComputeTurns turns, boolean only) {
        StippleProperties.Queue settings = properties.queue();
        AdmissionQueue queue = new AdmissionQueue(settings.capacity(), settings.maxWork() != null ? settings.maxWork()
                : settings.capacity() * defaultWork(model));
        ServiceRate rate = new ServiceRate();
        RunningJobs running = new RunningJobs();
        EngineMetrics metrics = new EngineMetrics(registry, model.name(), queue::size, queue::work, running::images,
                running::rows);
        EngineSettings engine = EngineSettings.from(properties);
        LatentDiffusion diffusion = new LatentDiffusion(model.pipeline(), model.samplers());
        EngineLoop loop = new EngineLoop(model.pipeline(), queue, new StepScheduler(engine.maxRows(), engine.exact()),
                new StepExecutor(diffusion, model.pipeline().device(), metrics), running,
                new JobOutcomes(running, metrics, rate, encoders, LatentPreview.fit(model.pipeline()), engine), turns);
        // one model keeps the thread name operators know; several are told apart by their model's name
        Thread thread = daemon(loop, only ? "stipple-worker" : "stipple-worker-" + model.name());
        return new ModelWorker(model, queue, rate, metrics, loop, thread);
    }

    private static Thread daemon(Runnable runnable, String name) {
        Thread thread = new Thread(runnable, name);
        thread.setDaemon(true);
        return thread;
    }

    /** The work units of the model's default request. */
    private static long defaultWork(ServedModel model) {
        ModelCapabilities can = model.capabilities();
        ModelCapabilities.Defaults defaults = can.defaults();
        GenerationRequest request = new GenerationRequest(can.name(), "", "", defaults.width(), defaults.height(),
                defaults.steps(), defaults.guidanceScale(), Guidance.of(can, defaults.guidanceScale()),
                defaults.sampler(), defaults.eta(), List.of(0L), null);
        return request.workUnits(model.spec().vaeScaleFactor(), walkedSteps(request, model));
    }

    /**
     * Admits {@code client}'s request whose result only the caller will read (a synchronous
     * {@code POST /generate}).
     */
    public Job submit(GenerationRequest request, String client) {
        ModelWorker worker = workerOf(request);
        EngineMetrics metrics = worker.metrics();
        AdmissionQueue queue = worker.queue();
        ServiceRate serviceRate = worker.rate();
        if (running && !worker.alive()) {
            metrics.rejected("worker_down");
            throw new NotAcceptingException("The generation worker of \"" + request.model()
                    + "\" has stopped; this replica cannot serve its requests");
        }
        long now = System.nanoTime();
        int walked = walkedSteps(request, worker.model());
        Job job = new Job(UUID.randomUUID().toString(), request, client, walked,
                request.workUnits(worker.model().spec().vaeScaleFactor(), walked), now, now + timeout.toNanos());
        try {
            quotas.acquire(client, request.imageCount(), serviceRate.secondsFor(queue.work(), queue.size(), now));
        } catch (ClientLimitException e) {
            metrics.rejected("client_limit");
            throw e;
        }
        try {
            int position = queue.add(job, serviceRate.secondsFor(queue.work() + job.work(), queue.size() + 1, now));
            unfinished.add(job);
            job.completion().whenComplete((result, failure) -> {
                quotas.release(client, request.imageCount());
                unfinished.remove(job);
            });
            job.announceQueued(position);
            ScheduledFuture<?> deadline = deadlines.schedule(() -> expire(job), timeout.toNanos(), TimeUnit.NANOSECONDS);
            job.completion().whenComplete((result, failure) -> deadline.cancel(false));
            return job;
        } catch (QueueFullException e) {
            quotas.refund(client, request.imageCount());
            metrics.rejected("queue_full");
            throw e;
        } catch (NotAcceptingException e) {
            quotas.refund(client, request.imageCount());
            metrics.rejected("shutting_down");
            throw e;
        }
    }

    private static int walkedSteps(GenerationRequest request, ServedModel model) {
        return request.walkedSteps(model.samplers().create(request.sampler(), request.eta()));
    }

    /** The validator only lets through requests for served models. */
    private ModelWorker workerOf(GenerationRequest request) {
        ModelWorker worker = workers.get(request.model());
        if (worker == null) {
            throw new IllegalArgumentException("no model \"" + request.model() + "\" is served");
        }
        return worker;
    }

    /** The worker drops the expired job's rows at its next step boundary. */
    private void expire(Job job) {
        if (job.fail(JobFailure.DEADLINE_EXCEEDED, null)) {
            workerOf(job.request()).metrics().failed(JobFailure.Reason.DEADLINE);
        }
    }

    /** Admits {@code client}'s request as an async job, readable by id until it expires. */
    public Job submitJob(GenerationRequest request, String client) {
        Job job = submit(request, client);
        jobs.put(job);
        return job;
    }

    public Optional<Job> find(String id) {
        return jobs.get(id);
    }

    /** Every admitted job that has not finished, oldest first. */
    public List<Job> unfinished() {
        return unfinished.stream().sorted(Comparator.comparingLong(Job::admittedNanos)).toList();
    }

    /** 1-based place in the queue, or 0 once the job has left it. */
    public int queuePosition(Job job) {
        return workerOf(job.request()).queue().position(job);
    }

    /**
     * Subscribes to a job's events and returns the event that describes it now. A queued job's
     * position is filled in here, since only the queue knows it.
     */
    public JobEvent subscribe(Job job, Consumer<JobEvent> listener) {
        JobEvent current = job.subscribe(listener);
        return current instanceof JobEvent.Queued ? new JobEvent.Queued(queuePosition(job)) : current;
    }

    /**
     * Cancels a job: at once if it is still queued, else its rows leave at the next step boundary.
     * Returns false if the job had already finished.
     */
    public boolean cancel(Job job) {
        if (job.status().terminal()) {
            return false;
        }
        job.requestCancel();
        ModelWorker worker = workerOf(job.request());
        if (worker.queue().remove(job) && job.cancel()) {
            worker.metrics().cancelled();
        }
        return true;
    }

    /** Ready to serve: every model's worker is alive, warmed up and admitting. */
    public boolean ready() {
        return running && workers.values().stream().allMatch(worker -> worker.alive() && worker.loop().warm());
    }

    /** Started, but a model's first call at its default size is still running. */
    public boolean warmingUp() {
        return running && workers.values().stream().allMatch(ModelWorker::alive)
                && workers.values().stream().anyMatch(worker -> !worker.loop().warm());
    }

    @Override
    public void start() {
        running = true;
        workers.values().forEach(worker -> worker.thread().start());
    }

    @Override
    public void stop() {
        // Closes the queues first: once isRunning() reads false, no submission is admitted any more.
        long deadline = System.nanoTime() + grace.toNanos();
        workers.values().forEach(worker -> worker.loop().stop(deadline));
        running = false;
        // A loop inside one long model call fails its jobs when the call returns: a few seconds more, for all together.
        long joinDeadline = deadline + TimeUnit.SECONDS.toNanos(5);
        try {
            for (ModelWorker worker : workers.values()) {
                worker.thread().join(Math.max(1, (joinDeadline - System.nanoTime()) / 1_000_000));
            }
            deadlines.shutdownNow();
            encoders.shutdown();
            encoders.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /**
     * Stopping is the final drain at shutdown: it fails what does not finish within the grace period and
     * ends the worker thread, which cannot be started again. A paused context (Spring's test context cache
     * pauses the contexts it is not using, then restarts them) keeps the engine running instead.
     */
    @Override
    public boolean isPauseable() {
        return false;
    }

    /** Stops first, before the web server, so that admitted requests are answered on open connections. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE;
    }
}
