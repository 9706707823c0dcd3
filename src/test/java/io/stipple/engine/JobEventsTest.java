package io.stipple.engine;

import static io.stipple.testing.Png.decode;
import static io.stipple.engine.EngineTesting.request;
import static io.stipple.engine.EngineTesting.result;
import static io.stipple.engine.EngineTesting.submitHeldBack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.pipeline.GenerationRequest;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;

/** What a subscriber to a job hears: its place in the queue, ordered progress with previews, one ending. */
@EngineTest
class JobEventsTest {
    private static final int STEPS = 20;
    /** stipple.preview.every and .width, left at their defaults. */
    private static final int PREVIEW_EVERY = 4;
    private static final int PREVIEW_WIDTH = 128;

    @Autowired
    GenerationService service;
    @Autowired
    ApplicationContext context;

    /** The events a recording subscriber hears, subscribed after {@code alsoListening}. */
    private List<JobEvent> eventsOf(GenerationRequest request, Consumer<JobEvent> alsoListening) {
        List<JobEvent> events = Collections.synchronizedList(new ArrayList<>());
        Job job = submitHeldBack(context, request, queued -> {
            queued.subscribe(alsoListening);
            events.add(service.subscribe(queued, events::add));
        });
        result(job);
        return List.copyOf(events);
    }

    /**
     * Asserts the events of a job subscribed to while queued: its place, then every step in order (previews
     * rendered off the model's thread included), then one ending, success. Returns the previews.
     */
    private static List<byte[]> assertOrderedEvents(List<JobEvent> events) {
        assertEquals(new JobEvent.Queued(1), events.get(0));
        assertInstanceOf(JobEvent.Succeeded.class, events.get(events.size() - 1));
        List<JobEvent> middle = events.subList(1, events.size() - 1);
        assertTrue(middle.stream().allMatch(JobEvent.Progress.class::isInstance), middle.toString());
        List<JobEvent.Progress> progress = middle.stream().map(JobEvent.Progress.class::cast).toList();

        List<Integer> steps = progress.stream().map(JobEvent.Progress::step).toList();
        for (int i = 1; i < steps.size(); i++) {
            assertTrue(steps.get(i) >= steps.get(i - 1), "steps went backwards: " + steps);
        }
        assertEquals(IntStream.rangeClosed(0, STEPS).boxed().toList(), steps.stream().distinct().toList());
        assertTrue(progress.stream().allMatch(event -> event.steps() == STEPS));
        return progress.stream().map(JobEvent.Progress::previewPng).filter(Objects::nonNull).toList();
    }

    @Test
    void subscriberHearsQueuedThenEveryStepInOrderWithPreviewsThenOneEnding() {
        List<byte[]> previews = assertOrderedEvents(eventsOf(request("a red circle", STEPS, 5), event -> { }));

        assertTrue(previews.size() >= 1 && previews.size() <= (STEPS - 1) / PREVIEW_EVERY,
                previews.size() + " previews");
        for (byte[] png : previews) {
            BufferedImage preview = decode(png);
            assertEquals(PREVIEW_WIDTH, preview.getWidth());
            assertEquals(PREVIEW_WIDTH, preview.getHeight());
        }
    }

    @Test
    void subscriberThatThrowsHurtsNeitherTheJobNorItsOtherSubscribersNorTheEngine() {
        assertOrderedEvents(eventsOf(request("a blue square", STEPS, 6), event -> {
            throw new IllegalStateException("a subscriber that fails on every event");
        }));

        assertTrue(service.ready(), "the worker survived");
        assertNotNull(result(service.submit(request("the next one", 4, 7), EngineTesting.CLIENT)));
    }
}
