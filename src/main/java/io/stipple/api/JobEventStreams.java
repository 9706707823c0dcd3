package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.config.StippleProperties;
import io.stipple.engine.GenerationService;
import io.stipple.engine.Job;
import io.stipple.engine.JobEvent;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.Iterator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The server-sent event streams of {@code GET /v1/jobs/{id}/events}.
 *
 * <p><b>Delivery thread.</b> A job's listeners run on the engine's worker thread, inside the job's lock,
 * or on a PNG encoder thread; {@link SseEmitter#send} writes to the socket on the calling thread and
 * blocks while a slow client's TCP window is full. So a listener only appends the event to its stream's
 * bounded queue, and a sender thread drains that queue into the emitter: at most one sender per stream
 * at a time, so events keep their order, and a client that stalls holds up one sender thread and its
 * own stream, never the model or another stream. Senders come from a cached pool (idle ones end after a
 * minute). When a stream's queue is full, its oldest progress event is dropped: a slow client sees
 * fewer progress events, never a missing terminal one.
 *
 * <p><b>Ending.</b> A stream ends after its job's terminal event. Its listener is also removed, and the
 * stream closed, when the client goes away: the container reports a closed connection to the emitter
 * (error or completion), or a write fails. A comment line goes out every
 * {@code stipple.jobs.events-heartbeat}, so that a write happens even while a job waits in the queue:
 * it notices a client that vanished without closing its connection, and keeps proxies from closing an
 * idle stream. The emitter's timeout, {@code stipple.request.timeout} plus {@code stipple.shutdown.grace},
 * is only a safety net: by then the engine has ended every job.
 */
@Component
class JobEventStreams implements DisposableBean {
    private static final Logger log = LoggerFactory.getLogger(JobEventStreams.class);
    /** Events a stream may hold for a slow client before dropping progress. */
    static final int MAX_PENDING = 32;
    private static final Object HEARTBEAT = new Object();
    private static final String PNG_DATA_URL = "data:image/png;base64,";

    private final GenerationService service;
    private final ExecutorService senders = Executors.newCachedThreadPool(daemons("stipple-events"));
    private final ScheduledThreadPoolExecutor heartbeats = new ScheduledThreadPoolExecutor(1,
            daemons("stipple-events-heartbeat"));
    private final Set<Stream> open = ConcurrentHashMap.newKeySet();
    private final long heartbeatMillis;
    private final long timeoutMillis;

    JobEventStreams(GenerationService service, StippleProperties properties, MeterRegistry registry,
            @Value("${stipple.jobs.events-heartbeat:15s}") Duration heartbeat) {
        this.service = service;
        this.heartbeatMillis = Math.max(1, heartbeat.toMillis());
        this.timeoutMillis = properties.request().timeout().plus(properties.shutdown().grace()).toMillis();
        heartbeats.setRemoveOnCancelPolicy(true);
        Gauge.builder("stipple.event.streams", open, Set::size)
                .description("Open server-sent event streams of async jobs")
                .register(registry);
    }

    private static ThreadFactory daemons(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    /** Opens a stream of the job's events, starting with the event that describes it now. */
    SseEmitter open(Job job) {
        SseEmitter emitter = new SseEmitter(timeoutMillis);
        Stream stream = new Stream(job, emitter);
        emitter.onCompletion(stream::close);
        emitter.onError(error -> stream.close());
        emitter.onTimeout(() -> {
            stream.close();
            emitter.complete();
        });
        open.add(stream);
        stream.start(service.subscribe(job, stream));
        return emitter;
    }

    @Override
    public void destroy() throws InterruptedException {
        heartbeats.shutdownNow();
        senders.shutdown();
        if (!senders.awaitTermination(2, TimeUnit.SECONDS)) {
            senders.shutdownNow();
        }
    }

    /** {@code queued} event data. */
    record Queued(@JsonProperty("queue_position") int queuePosition) {
    }

    /** {@code progress} event data; {@code preview} is a PNG data URL, when the event carries one. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record Progress(
            @JsonProperty("step") int step,
            @JsonProperty("steps") int steps,
            @JsonProperty("preview") String preview) {
    }

    /** One client's stream: the job's listener, its pending events, and their delivery. */
    private final class Stream implements Consumer<JobEvent> {
        private final Job job;
        private final SseEmitter emitter;
        /** Guarded by {@code this}, as are the three flags. */
        private final Deque<Object> pending = new ArrayDeque<>();
        private boolean started;
        private boolean sending;
        private boolean closed;
        private ScheduledFuture<?> heartbeat;
        /** The highest step sent; only the sender that holds {@code sending} touches it. */
        private int lastStep = -1;

        Stream(Job job, SseEmitter emitter) {
            this.job = job;
            this.emitter = emitter;
        }

        /** On the engine's threads, inside the job's lock: queue the event, never block, never throw. */
        @Override
        public void accept(JobEvent event) {
            try {
                offer(event);
            } catch (RuntimeException e) {
                log.warn("Dropping the event stream of job {}", job.id(), e);
                close();
            }
        }

        /** The subscription's first event goes first, even if the job moved on meanwhile. */
        void start(JobEvent current) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                pending.addFirst(current);
                started = true;
                sending = true;
            }
            try {
                ScheduledFuture<?> beat = heartbeats.scheduleWithFixedDelay(() -> offer(HEARTBEAT), heartbeatMillis,
                        heartbeatMillis, TimeUnit.MILLISECONDS);
                synchronized (this) {
                    heartbeat = beat;
                    if (closed) {
                        beat.cancel(false);
                    }
                }
            } catch (RejectedExecutionException e) {
                // Shutting down: the job's terminal event is near, and ends the stream.
            }
            schedule();
        }

        private void offer(Object item) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (item == HEARTBEAT) {
                    if (!pending.isEmpty()) {
                        return; // a write is coming anyway
                    }
                } else if (pending.size() >= MAX_PENDING && !dropOldestProgress()
                        && item instanceof JobEvent.Progress) {
                    return;
                }
                pending.addLast(item);
                if (!started || sending) {
                    return;
                }
                sending = true;
            }
            schedule();
        }

        private boolean dropOldestProgress() {
            for (Iterator<Object> it = pending.iterator(); it.hasNext(); ) {
                Object item = it.next();
                if (item instanceof JobEvent.Progress) {
                    it.remove();
                    return true;
                }
            }
            return false;
        }

        private void schedule() {
            try {
                senders.execute(this::drain);
            } catch (RejectedExecutionException e) {
                close();
            }
        }

        private void drain() {
            while (true) {
                Object item;
                synchronized (this) {
                    item = closed ? null : pending.pollFirst();
                    if (item == null) {
                        sending = false;
                        return;
                    }
                }
                if (!deliver(item)) {
                    return;
                }
            }
        }

        /** Sends one item; false once the stream has ended. */
        private boolean deliver(Object item) {
            try {
                if (item == HEARTBEAT) {
                    emitter.send(SseEmitter.event().comment("heartbeat"));
                    return true;
                }
                if (item instanceof JobEvent.Queued queued) {
                    // 0: the job left the queue while subscribing; its next event is already on its way.
                    if (queued.position() > 0) {
                        send("queued", new Queued(queued.position()));
                    }
                    return true;
                }
                if (item instanceof JobEvent.Progress progress) {
                    return deliver(progress);
                }
                if (item instanceof JobEvent.Failed failed) {
                    send("failed", JobView.Error.of(failed.failure()));
                } else {
                    // Succeeded or Cancelled: the job's view, read after it reached that state.
                    JobView view = JobView.of(job, job.status(), 0);
                    send(item instanceof JobEvent.Succeeded ? "succeeded" : "cancelled", view);
                }
                close();
                emitter.complete();
                return false;
            } catch (IOException | IllegalStateException e) {
                // The client went away, or the emitter already ended (timeout, container error).
                log.debug("The event stream of job {} ended early: {}", job.id(), e.toString());
                close();
                return false;
            }
        }

        /**
         * Steps only go forward: a preview is rendered off the model's thread and may arrive after later
         * steps were announced, so it is sent with the latest step (it shows the latent of an earlier one).
         */
        private boolean deliver(JobEvent.Progress progress) throws IOException {
            byte[] preview = progress.previewPng();
            if (preview == null && progress.step() <= lastStep) {
                return true;
            }
            lastStep = Math.max(lastStep, progress.step());
            send("progress", new Progress(lastStep, progress.steps(),
                    preview == null ? null : PNG_DATA_URL + Base64.getEncoder().encodeToString(preview)));
            return true;
        }

        private void send(String name, Object data) throws IOException {
            emitter.send(SseEmitter.event().name(name).data(data, MediaType.APPLICATION_JSON));
        }

        /** Idempotent: stops delivery and unsubscribes; the emitter is left to the caller. */
        void close() {
            synchronized (this) {
                if (closed) {
                    return;
                }
                closed = true;
                pending.clear();
                if (heartbeat != null) {
                    heartbeat.cancel(false);
                }
            }
            job.unsubscribe(this);
            open.remove(this);
        }
    }
}
