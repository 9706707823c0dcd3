package io.stipple.engine;

import ai.djl.pytorch.jni.JniUtils;
import io.stipple.config.DeviceSetting;
import io.stipple.model.Devices;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TestPipelines;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.pipeline.GenerationRequest;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What a request gives served alone: the serial {@link GenerationPipeline}, on a copy of the tiny model
 * of its own (so it never shares modules with a running engine) and on a thread of its own set up like
 * the engine's worker.
 */
final class SoloReference implements AutoCloseable {
    private final LoadedPipeline models;
    private final GenerationPipeline pipeline;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(runnable -> {
        Thread created = new Thread(runnable, "solo-reference");
        created.setDaemon(true);
        return created;
    });

    SoloReference() {
        models = LoadedPipeline.load(PipelineDirectory.open(TestPipelines.TINY), Devices.resolve(DeviceSetting.AUTO));
        pipeline = new GenerationPipeline(models);
        // The graph executor setting is per thread; the worker runs with it off, and the reference must
        // run the same TorchScript code path to be comparable.
        call(() -> {
            JniUtils.setGraphExecutorOptimize(false);
            return null;
        });
    }

    /**
     * The PNGs of the request served alone, one per seed, each image in U-Net calls of its own: libtorch's kernels
     * may round a row differently in a larger batch, so even a request's own images are generated apart here.
     */
    List<byte[]> pngs(GenerationRequest request) {
        return request.seeds().stream().map(seed -> call(() -> EngineTesting.pngs(pipeline.generate(
                new GenerationRequest(request.model(), request.prompt(), request.negativePrompt(), request.width(),
                        request.height(), request.steps(), request.guidanceScale(), request.guidance(), request.sampler(),
                        request.eta(), List.of(seed), request.init()), 0)).get(0))).toList();
    }

    private <T> T call(Callable<T> task) {
        Future<T> future = thread.submit(task);
        try {
            return future.get();
        } catch (ExecutionException e) {
            throw new AssertionError("the solo reference failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        thread.shutdown();
        models.close();
    }
}
