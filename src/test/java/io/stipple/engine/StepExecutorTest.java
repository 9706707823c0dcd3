package io.stipple.engine;

import static io.stipple.engine.EngineTesting.liveNdArrays;
import static io.stipple.engine.EngineTesting.liveNdManagers;
import static io.stipple.engine.EngineTesting.request;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TestPipelines;
import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.InitImage;
import io.stipple.pipeline.LatentDiffusion;
import io.stipple.sampling.SamplerCatalog;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The executor on the tiny fixture, whose VAE decoder is swapped for one that reports libtorch's out-of-memory
 * error in calls of more than 8 latents (src/tools/fixture/make_faulty_parts.py): what a turn gives when a job
 * cannot start or a decode is too large.
 */
class StepExecutorTest {
    private static LoadedPipeline pipeline;
    private static StepExecutor executor;

    @BeforeAll
    static void load() throws IOException {
        Path directory = TestPipelines.copyTiny(Files.createTempDirectory("stipple-hungry-decoder"));
        TestPipelines.swapIn(directory, "vae_decoder_hungry.pt", PipelineDirectory.VAE_DECODER);
        pipeline = LoadedPipeline.load(PipelineDirectory.open(directory), Device.cpu());
        LatentDiffusion diffusion = new LatentDiffusion(pipeline, new SamplerCatalog(pipeline.directory().scheduler()));
        executor = new StepExecutor(diffusion, Device.cpu(),
                new EngineMetrics(new SimpleMeterRegistry(), "tiny", () -> 0, () -> 0, () -> 0, () -> 0));
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    private static TurnWork joining(TurnWork.Joining... jobs) {
        return new TurnWork(List.of(jobs), List.of(), List.of(), ref -> {
            throw new AssertionError("no job is on the model: " + ref);
        });
    }

    /**
     * A request whose init image does not have the request's size: its images cannot start (as when that runs out of
     * memory). It fails alone, after the text of every joining job was encoded in one call, and leaves nothing behind.
     */
    @Test
    void aJobWhoseImagesCannotStartFailsAloneAndKeepsNoTensors() {
        GenerationRequest good = request("a red circle", 64, 64, 4, 5.0, "ddim", 1, 2);
        GenerationRequest bad = withInit(request("a blue square", 64, 64, 4, 5.0, "ddim", 2),
                new InitImage(new BufferedImage(128, 128, BufferedImage.TYPE_INT_RGB), 0.5, null));
        int arrays = liveNdArrays();
        int managers = liveNdManagers();

        TurnOutcome outcome = executor.execute(joining(new TurnWork.Joining("good", good),
                new TurnWork.Joining("bad", bad), new TurnWork.Joining("also-good", good)));

        assertEquals(List.of("good", "also-good"), outcome.started().stream().map(JobTensors::jobId).toList());
        assertEquals(List.of("bad"), outcome.failed().stream().map(JobError::jobId).toList());
        assertEquals(JobFailure.Reason.MODEL_ERROR, outcome.failed().get(0).failure().reason());
        outcome.started().forEach(JobTensors::release);
        assertEquals(arrays, liveNdArrays(), "NDArrays left by the failed job");
        assertEquals(managers, liveNdManagers(), "NDManagers left by the failed job");
    }

    @Test
    void aDecodeThatRunsOutOfMemoryIsSplitAndEveryImageIsDecoded() {
        TurnOutcome admitted = executor.execute(joining(
                new TurnWork.Joining("five", request("a red circle", 64, 64, 1, 5.0, "ddim", 1, 5)),
                new TurnWork.Joining("six", request("a green circle", 64, 64, 1, 5.0, "ddim", 10, 6))));
        Map<String, JobTensors> jobs = admitted.started().stream()
                .collect(Collectors.toMap(JobTensors::jobId, job -> job));
        List<ImageRef> images = new ArrayList<>();
        for (JobTensors job : admitted.started()) {
            IntStream.range(0, job.images().size()).forEach(i -> images.add(new ImageRef(job.jobId(), i)));
        }
        Function<ImageRef, DenoisingImage> onTheModel = ref -> jobs.get(ref.jobId()).images().get(ref.index());
        try {
            TurnOutcome decoded = executor.execute(new TurnWork(List.of(), images, images, onTheModel));
            assertEquals(11, decoded.stepped().size(), "one step, the last");
            assertTrue(decoded.failed().isEmpty(), "no job fails for the size of a call: " + decoded.failed());
            assertEquals(11, decoded.decodeOutOfMemoryAt(), "the call of all 11 images ran out of memory");
            assertEquals(images, decoded.decodes().stream().flatMap(call -> call.images().stream()).toList(),
                    "decoded in the turn of their last step");
            assertTrue(decoded.decodes().stream().allMatch(call -> call.images().size() <= 8
                    && call.pixels().size() == call.images().size()));
        } finally {
            admitted.started().forEach(JobTensors::release);
        }
    }

    /** A job planned to join but cancelled before it was taken from the queue: its images are not there to run. */
    @Test
    void imagesOfAJobThatNeverJoinedAreLeftOut() {
        ImageRef cancelled = new ImageRef("cancelled", 0);
        TurnOutcome outcome = executor.execute(new TurnWork(List.of(), List.of(cancelled), List.of(cancelled),
                ref -> null));
        assertTrue(outcome.stepped().isEmpty() && outcome.decodes().isEmpty() && outcome.failed().isEmpty());
    }

    private static GenerationRequest withInit(GenerationRequest request, InitImage init) {
        return new GenerationRequest(request.model(), request.prompt(), request.negativePrompt(), request.width(),
                request.height(), request.steps(), request.guidanceScale(), request.guidance(), request.sampler(),
                request.eta(), request.seeds(), init);
    }
}
