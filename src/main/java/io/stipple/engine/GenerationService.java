package io.stipple.engine;

import ai.djl.pytorch.jni.JniUtils;
import io.stipple.config.StippleProperties;
import io.stipple.model.LoadedPipeline;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Service;

/**
 * Runs requests on the one worker thread that owns the model, behind a bounded queue: HTTP threads
 * never call the model, and a full queue refuses work instead of growing without bound.
 */
@Service
public class GenerationService implements DisposableBean {
    private static final double SMOOTHING = 0.2;

    private final GenerationPipeline pipeline;
    private final ThreadPoolExecutor worker;
    private final int capacity;
    private volatile double secondsPerRequest = 1.0;

    public GenerationService(LoadedPipeline models, StippleProperties properties) {
        this.pipeline = new GenerationPipeline(models);
        this.capacity = properties.queue().capacity();
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(capacity),
                runnable -> {
                    Thread thread = new Thread(runnable, "stipple-worker");
                    thread.setDaemon(true);
                    return thread;
                });
        // The TorchScript graph executor setting is thread-local; the worker is the only thread that runs
        // the model. Re-optimizing for every new batch shape costs more than it gains here (docs/BENCHMARKS.md).
        worker.execute(() -> JniUtils.setGraphExecutorOptimize(false));
    }

    public GenerationPipeline pipeline() {
        return pipeline;
    }

    public CompletableFuture<GenerationResult> submit(GenerationRequest request) {
        long admitted = System.nanoTime();
        CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        try {
            worker.execute(() -> {
                if (result.isDone()) {
                    return;
                }
                try {
                    double queueMillis = (System.nanoTime() - admitted) / 1e6;
                    long start = System.nanoTime();
                    result.complete(pipeline.generate(request, queueMillis));
                    double seconds = (System.nanoTime() - start) / 1e9;
                    secondsPerRequest = SMOOTHING * seconds + (1 - SMOOTHING) * secondsPerRequest;
                } catch (RuntimeException | Error e) {
                    result.completeExceptionally(e);
                }
            });
        } catch (RejectedExecutionException e) {
            if (worker.isShutdown()) {
                throw new NotAcceptingException("The server is shutting down and takes no new requests");
            }
            throw new QueueFullException(capacity, retryAfterSeconds());
        }
        return result;
    }

    private long retryAfterSeconds() {
        return Math.max(1, (long) Math.ceil(secondsPerRequest * (worker.getQueue().size() + 1)));
    }

    @Override
    public void destroy() throws InterruptedException {
        worker.shutdown();
        worker.awaitTermination(30, TimeUnit.SECONDS);
    }
}
