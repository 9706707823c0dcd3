package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.assertFails;
import static io.stipple.engine.EngineTesting.request;
import static io.stipple.engine.EngineTesting.result;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.InitImage;
import java.awt.image.BufferedImage;
import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;

/**
 * A model that fails on one request's input (the tiny fixture with src/tools/fixture/make_faulty_parts.py's
 * modules: a prompt with "pink" makes the U-Net raise, "gray" makes it run out of memory in calls of more than
 * 4 rows; the VAE decoder runs out of memory in calls of more than 8 latents) fails that request alone, with a
 * short problem that carries an error id and no trace; its batch-mates finish; calls that run out of memory are
 * split. {@link DeadlineTest} uses the same modules' "brown" to keep the worker inside one long call.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT)
class FaultIsolationTest {
    private static final String ERROR_ID = "\\(error [0-9a-f]{8}\\); the server log has the details under that id";

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @Autowired
    ApplicationContext context;
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void faultyModel(DynamicPropertyRegistry properties) throws IOException {
        EngineTesting.serveFaultyTiny(properties);
    }

    @Test
    void aPoisonedJobFailsAloneAndItsBatchMatesFinish() {
        List<Job> healthy = List.of(service.submit(request("a red circle", 64, 64, 8, 5.0, "ddim", 1), EngineTesting.CLIENT),
                service.submit(request("a blue square", 64, 64, 8, 5.0, "ddim", 2), EngineTesting.CLIENT));
        Job poisoned = service.submit(request("a pink circle", 64, 64, 8, 5.0, "ddim", 3), EngineTesting.CLIENT);
        List<Job> after = List.of(service.submit(request("a green circle", 64, 64, 8, 5.0, "euler_a", 4), EngineTesting.CLIENT),
                service.submit(request("a red square", 64, 64, 8, 1.0, "ddim", 5, 2), EngineTesting.CLIENT));

        assertFails(poisoned, JobFailure.Reason.MODEL_ERROR, PATIENCE);
        String message = poisoned.failure().message();
        assertTrue(message.matches("The model failed on this request " + ERROR_ID), message);
        for (Job job : List.of(healthy.get(0), healthy.get(1), after.get(0), after.get(1))) {
            assertEquals(job.request().imageCount(), result(job).images().size());
        }
        assertTrue(service.ready(), "the engine keeps serving");
        assertEquals(1, result(service.submit(request("a red circle", 64, 64, 2, 5.0, "ddim", 6), EngineTesting.CLIENT)).images().size());
    }

    /**
     * "gray" makes the U-Net report libtorch's out-of-memory error for calls of more than 4 rows: the call is
     * split, the job succeeds, and later calls stay within 4 rows even for prompts that would fit more.
     */
    @Test
    void runningOutOfMemorySplitsTheCallAndLowersTheRowCap() {
        Job hungry = service.submit(request("a gray circle", 64, 64, 3, 5.0, "ddim", 8, 4), EngineTesting.CLIENT);
        assertEquals(4, result(hungry).images().size());

        DistributionSummary rows = registry.get("stipple.batch.rows").summary();
        long callsBefore = rows.count();
        double rowsBefore = rows.totalAmount();
        Job large = service.submit(request("a red circle", 64, 64, 3, 5.0, "ddim", 9, 4), EngineTesting.CLIENT);
        assertEquals(4, result(large).images().size());
        assertEquals(6, rows.count() - callsBefore, "3 steps of 8 rows in calls of at most 4");
        assertEquals(24, rows.totalAmount() - rowsBefore);
    }

    /**
     * Ten unguided images (one row each) step in the same calls and finish together; their VAE call runs out of
     * memory, is split, and the job succeeds.
     */
    @Test
    void aDecodeThatRunsOutOfMemoryIsSplit() {
        Job many = service.submit(request("a red circle", 64, 64, 2, 1.0, "ddim", 20, 10), EngineTesting.CLIENT);
        assertEquals(10, result(many).images().size());
    }

    /**
     * A job whose images cannot start (its init image does not have its size, standing in for running out of
     * memory there) fails alone, though admitted in the same turn as a good one, and leaves no tensors behind.
     */
    @Test
    void aJobThatCannotStartFailsAloneAndKeepsNoTensors() {
        int before = EngineTesting.liveNdArrays();
        GenerationRequest fine = request("a red circle", 64, 64, 2, 5.0, "ddim", 30);
        Job bad;
        Job good;
        try (HeldDevice device = HeldDevice.hold(context)) {
            bad = service.submit(new GenerationRequest(fine.model(), fine.prompt(), "", 64, 64, 2, 5.0,
                    fine.guidance(), "ddim", 0, List.of(31L),
                    new InitImage(new BufferedImage(128, 128, BufferedImage.TYPE_INT_RGB), 0.5, null)),
                    EngineTesting.CLIENT);
            good = service.submit(fine, EngineTesting.CLIENT);
        }
        assertFails(bad, JobFailure.Reason.MODEL_ERROR, PATIENCE);
        assertEquals(1, result(good).images().size());
        await().atMost(PATIENCE).untilAsserted(() -> assertEquals(before, EngineTesting.liveNdArrays(),
                "NDArrays once both jobs have left"));
    }

    @Test
    void aModelErrorAnswers500WithAnErrorIdAndNoTrace() {
        HttpResponse<byte[]> response = new StippleHttp(port).generate(StippleHttp.body("prompt", "a pink square"));
        JsonNode problem = StippleHttp.assertProblem(response, 500, null, "The model failed on this request");
        String body = new String(response.body());
        assertTrue(problem.get("detail").asString().matches("The model failed on this request " + ERROR_ID), body);
        assertFalse(body.contains("Traceback") || body.contains(".py") || body.contains("poisoned"), body);
    }
}
