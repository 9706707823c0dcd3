package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.awaitStep;
import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static io.stipple.testing.StippleHttp.json;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.model.ServedModels;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.Guidance;
import io.stipple.testing.StippleHttp;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.ApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * One server, several models: the embedded ones, {@code stipple.model-dir} (the default) and {@code stipple.models}.
 * Each is listed with its own defaults, chosen by a request's {@code model} field, batched on its own worker, and
 * metered under its name; a flood of requests for one model does not hold up another.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny",
        "stipple.models[0]=src/test/resources/pipelines/tiny-guidance-embedded"})
class SeveralModelsTest {
    private static final String SHAPES = "stipple-shapes";
    private static final String PROBE = "tiny-guidance-embedded-probe";

    @LocalServerPort
    int port;
    @Autowired
    ServedModels models;
    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;
    @Autowired
    ApplicationContext context;

    @Test
    void listsEveryModelWithItsOwnDefaultsAndTheModelDirAsDefault() {
        StippleHttp http = new StippleHttp(port);
        JsonNode list = json(http.get("/v1/models"));
        assertEquals(EngineTesting.TINY, list.get("default").asString());
        List<String> names = list.get("models").valueStream().map(model -> model.get("name").asString()).toList();
        assertEquals(models.names(), names);
        assertTrue(names.containsAll(List.of(SHAPES, EngineTesting.TINY, PROBE)), names.toString());

        JsonNode probe = json(http.get("/v1/models/" + PROBE));
        assertTrue(probe.get("guidance_embedded").asBoolean());
        assertFalse(probe.get("default").asBoolean());
        JsonNode shapes = json(http.get("/v1/models/" + SHAPES));
        assertEquals(64, shapes.at("/defaults/width").asInt());
        assertFalse(shapes.get("guidance_embedded").asBoolean());
        assertEquals(EngineTesting.TINY, json(http.get("/v1/model")).get("name").asString());
        assertProblem(http.get("/v1/models/dall-e-3"), 404, null, "No model named \"dall-e-3\"; served: " + SHAPES);
    }

    @Test
    void aRequestNamesItsModelAndGetsWhatThatModelAloneWouldMake() {
        StippleHttp http = new StippleHttp(port);
        byte[] served = http.generatePng(body("prompt", "a red circle on a blue background", "seed", 5, "model", SHAPES));
        GenerationRequest same = new GenerationRequest(SHAPES, "a red circle on a blue background", "", 64, 64, 20, 3.0,
                Guidance.CLASSIFIER_FREE, "ddim", 0.0, List.of(5L), null);
        assertArrayEquals(new GenerationPipeline(models.find(SHAPES).orElseThrow().pipeline())
                .generate(same, 0).images().get(0).png(), served);
        assertTrue(EngineTesting.count(registry, "stipple.images.generated", "model", SHAPES) >= 1);
    }

    @Test
    void unknownModelsAndNegativePromptsForGuidanceEmbeddedModelsAreTheRequestsErrors() {
        StippleHttp http = new StippleHttp(port);
        assertProblem(http.generate(body("prompt", "a cat", "model", "sd-xl")), 400, "model",
                "unknown model \"sd-xl\"; served: " + String.join(", ", models.names()));
        assertProblem(http.generate(body("prompt", "a cat", "model", PROBE, "negative_prompt", "a dog")), 400,
                "negative_prompt", "embeds the guidance scale");
        assertEquals(200, http.generate(body("prompt", "a cat", "model", PROBE, "guidance_scale", 7.5)).statusCode());
    }

    /**
     * The other model's request waits for no more than one flood step per step of its own: the workers take fair
     * turns on the device. The test holds the device while the request arrives, so that both workers queue for it,
     * and counts the flood's steps until the request is done.
     */
    @Test
    void aFloodForOneModelDoesNotHoldUpAnother() throws Exception {
        // Six slow images of the tiny fixture in one job: one batch of 12 rows, far more steps than the other needs.
        Job flood = service.submit(new GenerationRequest(EngineTesting.TINY, "a slow one", "", 256, 256, 150, 5.0,
                Guidance.CLASSIFIER_FREE, "ddim", 0.0, LongStream.range(1, 7).boxed().toList(), null),
                EngineTesting.CLIENT);
        awaitStep(flood, 1);
        int otherSteps = 20;
        Job other;
        int floodStepsBefore;
        try (HeldDevice device = HeldDevice.hold(context)) {
            floodStepsBefore = flood.step();
            other = service.submit(new GenerationRequest(SHAPES, "a red circle on a blue background", "", 64, 64,
                    otherSteps, 3.0, Guidance.CLASSIFIER_FREE, "ddim", 0.0, List.of(1L), null), EngineTesting.CLIENT);
        }
        other.completion().get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        int floodSteps = flood.step() - floodStepsBefore;
        assertEquals(JobStatus.RUNNING, flood.status(), "the flood finished first: the models did not take turns");
        service.cancel(flood);
        System.out.printf("While the other model took its %d steps, the flood took %d%n", otherSteps, floodSteps);
        // Its steps, its admission and its decoding are at most otherSteps + 2 turns; twice that leaves room for
        // the moments when the other worker is between two turns and not yet waiting.
        assertTrue(floodSteps <= 2 * (otherSteps + 2), "the flood took " + floodSteps + " steps while the other model took "
                + otherSteps + ": the models did not take turns");
    }
}
