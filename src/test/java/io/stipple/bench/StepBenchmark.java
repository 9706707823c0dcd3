package io.stipple.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.UnetConditions;
import io.stipple.pipeline.GuidanceEmbedding;
import io.stipple.pipeline.GuidedStep;
import io.stipple.sampling.SamplerCatalog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * One denoising step of the embedded default model ({@link GuidedStep}: the U-Net call, guidance and the sampler
 * updates) at 1, 4 and 16 guided DDIM images: the median time of a step, and the native operations it runs
 * beside the U-Net call, counted by libtorch's profiler (the operations of a whole step minus those of the bare
 * U-Net call on the same rows). Run with {@code mvn test -Pbenchmark -Dtest=StepBenchmark}; results go to stdout
 * and {@code target/benchmarks/step.md}.
 */
@Tag("benchmark")
class StepBenchmark {
    private static final Path MODEL = Path.of("src/main/resources/stipple/default-model");
    private static final int[] IMAGES = {1, 4, 16};
    private static final int STEPS = 20;
    private static final int ROUNDS = 15;
    private static final Pattern EVENT = Pattern.compile("\"ph\":\\s*\"X\"");

    @Test
    void measure() throws Exception {
        StringBuilder report = new StringBuilder();
        try (LoadedPipeline pipeline = LoadedPipeline.load(PipelineDirectory.open(MODEL), Device.cpu())) {
            // as the worker runs this model (docs/BENCHMARKS.md): graph optimizer off, one intra-op thread
            JniUtils.setGraphExecutorOptimize(false);
            JniUtils.setNumThreads(1);
            report.append("Machine: ").append(Runtime.getRuntime().availableProcessors())
                    .append(" cores, libtorch intra-op threads ").append(JniUtils.getNumThreads()).append("\n\n")
                    .append("| images | U-Net rows | step ms (median) | U-Net call ms (median) | native ops per step "
                            + "beside the U-Net |\n|---|---|---|---|---|\n");
            for (int images : IMAGES) {
                report.append(row(pipeline, images));
            }
        }
        Path out = Path.of("target/benchmarks/step.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        System.out.println(report);
    }

    private static String row(LoadedPipeline pipeline, int count) throws Exception {
        GuidedStep step = new GuidedStep(pipeline.unet(), GuidanceEmbedding.of(pipeline.spec()));
        SamplerCatalog samplers = new SamplerCatalog(pipeline.directory().scheduler());
        int length = pipeline.spec().textMaxLength();
        Shape latent = new Shape(1, pipeline.spec().latentChannels(), 16, 16);
        List<Double> stepMillis = new ArrayList<>();
        List<Double> unetMillis = new ArrayList<>();
        long opsBeside = 0;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray text = manager.zeros(new Shape(1, length, pipeline.hiddenSize()));
            NDList unetInputs = new NDList(manager.zeros(new Shape(2L * count, latent.get(1), 16, 16)),
                    manager.full(new Shape(2L * count), 500f), manager.zeros(new Shape(2L * count, length,
                    pipeline.hiddenSize()), DataType.FLOAT32));
            for (int round = 0; round < ROUNDS; round++) {
                List<DenoisingImage> images = new ArrayList<>();
                for (int i = 0; i < count; i++) {
                    images.add(new DenoisingImage(i, samplers.create("ddim", 0).start(STEPS), 3.0, UnetConditions.of(text),
                            UnetConditions.of(text), manager.newSubManager(), latent, null));
                }
                for (int s = 0; s < STEPS; s++) {
                    long start = System.nanoTime();
                    step.run(images);
                    stepMillis.add((System.nanoTime() - start) / 1e6);
                    start = System.nanoTime();
                    pipeline.unet().forward(unetInputs).forEach(NDArray::close);
                    unetMillis.add((System.nanoTime() - start) / 1e6);
                }
                if (round == ROUNDS - 1) {
                    List<DenoisingImage> fresh = new ArrayList<>();
                    for (int i = 0; i < count; i++) {
                        fresh.add(new DenoisingImage(i, samplers.create("ddim", 0).start(STEPS), 3.0,
                                UnetConditions.of(text), UnetConditions.of(text), manager.newSubManager(), latent, null));
                    }
                    opsBeside = operations(() -> step.run(fresh))
                            - operations(() -> pipeline.unet().forward(unetInputs).forEach(NDArray::close));
                }
                images.forEach(DenoisingImage::close);
            }
        }
        return String.format("| %d | %d | %.2f | %.2f | %d |%n", count, 2 * count, median(stepMillis),
                median(unetMillis), opsBeside);
    }

    /** The operations libtorch's profiler records while {@code work} runs. */
    private static long operations(Runnable work) throws Exception {
        Path trace = Files.createTempFile("stipple-step-", ".json");
        JniUtils.startProfile(false, false, false);
        work.run();
        JniUtils.stopProfile(trace.toString());
        Matcher events = EVENT.matcher(Files.readString(trace));
        long count = 0;
        while (events.find()) {
            count++;
        }
        Files.delete(trace);
        return count;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
