package io.stipple.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine's policy on facts written by hand: no model, no tensors. */
class StepSchedulerTest {
    private static final BatchKey SMALL = new BatchKey(8, 8);
    private static final BatchKey LARGE = new BatchKey(64, 64);

    /** A guided job of {@code images} images (two rows each) taking {@code steps} steps. */
    private static TurnFacts.Waiting waiting(String job, int images, BatchKey key, int steps) {
        return new TurnFacts.Waiting(job, images, 2, key, steps);
    }

    private static TurnFacts.Waiting waiting(String job, int images) {
        return waiting(job, images, SMALL, 10);
    }

    private static TurnFacts.Running denoising(String job, int index, BatchKey key, int rows, long lastStepped) {
        return new TurnFacts.Running(new ImageRef(job, index), key, rows, lastStepped, 5);
    }

    private static TurnFacts.Running lastStep(String job, int index) {
        return new TurnFacts.Running(new ImageRef(job, index), SMALL, 2, 0, 1);
    }

    private static TurnFacts.Running denoised(String job, int index) {
        return denoised(job, index, SMALL);
    }

    private static TurnFacts.Running denoised(String job, int index, BatchKey key) {
        return new TurnFacts.Running(new ImageRef(job, index), key, 2, 0, 0);
    }

    private static List<ImageRef> refs(String job, int... indexes) {
        List<ImageRef> refs = new ArrayList<>();
        for (int index : indexes) {
            refs.add(new ImageRef(job, index));
        }
        return refs;
    }

    private static List<ImageRef> concat(List<ImageRef> first, List<ImageRef> second) {
        List<ImageRef> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }

    @Test
    void anIdleModelTakesTheFirstJobHoweverLargeAndThenOnlyWhatFits() {
        StepScheduler scheduler = new StepScheduler(16, false);
        StepPlan idle = scheduler.schedule(new TurnFacts(List.of(waiting("huge", 20), waiting("small", 1)), List.of()));
        assertEquals(List.of("huge"), idle.admit(), "40 rows are over the cap, but an idle model must take them");

        StepPlan filling = scheduler.schedule(new TurnFacts(
                List.of(waiting("a", 2), waiting("b", 3), waiting("c", 2), waiting("d", 1)),
                List.of(denoising("running", 0, SMALL, 2, 0), denoising("running", 1, SMALL, 2, 0))));
        assertEquals(List.of("a", "b"), filling.admit(),
                "4 rows running: a (4) and b (6) fit in 16, c (4) does not, and d waits behind c in the queue's order");
    }

    @Test
    void aJoiningJobStepsInTheTurnItJoinsAfterTheImagesAlreadyRunning() {
        StepScheduler scheduler = new StepScheduler(8, false);
        StepPlan plan = scheduler.schedule(new TurnFacts(List.of(waiting("new", 2)),
                List.of(denoising("old", 0, SMALL, 2, 7), denoising("old", 1, SMALL, 2, 7))));
        assertEquals(List.of("new"), plan.admit());
        assertEquals(concat(refs("old", 0, 1), refs("new", 0, 1)), plan.step());

        StepPlan full = new StepScheduler(6, false).schedule(new TurnFacts(List.of(waiting("new", 1)),
                List.of(denoising("old", 0, SMALL, 2, 7), denoising("old", 1, SMALL, 2, 7))));
        assertEquals(List.of("new"), full.admit());
        assertEquals(concat(refs("old", 0, 1), refs("new", 0)), full.step());
    }

    @Test
    void imagesAreDecodedInTheTurnOfTheirLastStep() {
        StepScheduler scheduler = new StepScheduler(16, false);
        StepPlan plan = scheduler.schedule(new TurnFacts(List.of(),
                List.of(lastStep("finishing", 0), denoising("going-on", 0, SMALL, 2, 0), lastStep("finishing", 1))));
        assertEquals(concat(refs("finishing", 0), concat(refs("going-on", 0), refs("finishing", 1))), plan.step());
        assertEquals(refs("finishing", 0, 1), plan.decode());

        StepPlan strengthZero = scheduler.schedule(new TurnFacts(List.of(waiting("unchanged", 2, SMALL, 0)), List.of()));
        assertEquals(List.of("unchanged"), strengthZero.admit());
        assertTrue(strengthZero.step().isEmpty(), "an image-to-image start at strength 0 takes no step");
        assertEquals(refs("unchanged", 0, 1), strengthZero.decode());
    }

    @Test
    void denoisedImagesDoNotHoldRowsAndAreDecodedUpToTheCap() {
        StepScheduler scheduler = new StepScheduler(4, false);
        StepPlan plan = scheduler.schedule(new TurnFacts(List.of(waiting("next", 2, LARGE, 10)),
                List.of(denoised("done", 0), denoised("done", 1), denoised("done", 2), denoised("done", 3),
                        denoised("done", 4))));
        assertEquals(List.of("next"), plan.admit());
        assertEquals(refs("done", 0, 1, 2, 3), plan.decode(), "four images per VAE call");

        assertEquals(1, scheduler.lowerDecodeCap(3));
        assertEquals(refs("done", 0), scheduler.schedule(new TurnFacts(List.of(), List.of(denoised("done", 0),
                denoised("done", 1)))).decode());
    }

    @Test
    void oneVaeCallDecodesImagesOfOneSize() {
        StepScheduler scheduler = new StepScheduler(16, false);
        TurnFacts facts = new TurnFacts(List.of(), List.of(denoised("large", 0, LARGE), denoised("small", 0),
                denoised("large", 1, LARGE), denoised("small", 1)));
        assertEquals(refs("large", 0, 1), scheduler.schedule(facts).decode(), "the oldest image's size first");
    }

    @Test
    void imagesSteppedLeastRecentlyGoFirstUpToTheRowCap() {
        StepScheduler scheduler = new StepScheduler(6, false);
        StepPlan plan = scheduler.schedule(new TurnFacts(List.of(), List.of(
                denoising("a", 0, SMALL, 2, 5), denoising("a", 1, SMALL, 2, 5),
                denoising("b", 0, SMALL, 2, 3), denoising("c", 0, SMALL, 1, 4), denoising("d", 0, SMALL, 2, 4))));
        assertEquals(List.of(new ImageRef("b", 0), new ImageRef("c", 0), new ImageRef("d", 0)), plan.step(),
                "turn 3, then the two of turn 4 in admission order: 5 rows; a's next 2 rows would make 7");
    }

    @Test
    void latentSizesTakeTurns() {
        StepScheduler scheduler = new StepScheduler(16, false);
        TurnFacts facts = new TurnFacts(List.of(), List.of(denoising("small", 0, SMALL, 2, 0),
                denoising("large", 0, LARGE, 2, 0), denoising("small", 1, SMALL, 2, 0)));
        assertEquals(refs("small", 0, 1), scheduler.schedule(facts).step());
        assertEquals(refs("large", 0), scheduler.schedule(facts).step());
        assertEquals(refs("small", 0, 1), scheduler.schedule(facts).step());
    }

    @Test
    void exactBatchingStepsOneImagePerCall() {
        StepScheduler scheduler = new StepScheduler(16, true);
        StepPlan plan = scheduler.schedule(new TurnFacts(List.of(), List.of(denoising("a", 0, SMALL, 2, 1),
                denoising("a", 1, SMALL, 2, 0))));
        assertEquals(refs("a", 1), plan.step());
    }

    @Test
    void aCallThatRanOutOfMemoryHalvesTheRowCapForGood() {
        StepScheduler scheduler = new StepScheduler(16, false);
        assertEquals(4, scheduler.lowerRowCap(8));
        assertEquals(4, scheduler.lowerRowCap(12), "a cap is never raised");
        assertEquals(1, scheduler.lowerRowCap(1));
        List<TurnFacts.Running> running = List.of(denoising("a", 0, SMALL, 2, 0), denoising("a", 1, SMALL, 2, 0));
        assertEquals(refs("a", 0), scheduler.schedule(new TurnFacts(List.of(), running)).step(),
                "one image always steps, even over the cap");
        assertEquals(List.of(), scheduler.schedule(new TurnFacts(List.of(waiting("b", 1)), running)).admit());
    }

    @Test
    void nothingToDoIsAnEmptyPlan() {
        assertTrue(new StepScheduler(16, false).schedule(new TurnFacts(List.of(), List.of())).isEmpty());
    }
}
