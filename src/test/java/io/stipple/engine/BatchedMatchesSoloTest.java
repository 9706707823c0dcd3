package io.stipple.engine;

import static io.stipple.engine.EngineTesting.PATIENCE;
import static io.stipple.engine.EngineTesting.differences;
import static io.stipple.engine.EngineTesting.request;
import static io.stipple.engine.EngineTesting.result;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * Step-level batching gives what the serial pipeline gives, up to float rounding: a request's images
 * do not depend on what shares its U-Net calls, nor on when it joined them.
 */
@EngineTest
class BatchedMatchesSoloTest {
    /**
     * Batched kernels may sum in another order than a call over one image; on the tiny model that shows
     * as at most one grey level in a channel (stipple.batch.exact=true removes even that).
     */
    static final int TOLERANCE = 1;

    private static SoloReference solo;

    @Autowired
    GenerationService service;
    @Autowired
    MeterRegistry registry;

    @BeforeAll
    static void loadReference() {
        solo = new SoloReference();
    }

    @AfterAll
    static void closeReference() {
        solo.close();
    }

    private DistributionSummary batchRows() {
        return registry.get("stipple.batch.rows").summary();
    }

    @Test
    void requestAmongSevenOthersMatchesItsSoloRun() {
        List<List<byte[]>> expected = MixedLoad.ALL.stream().map(solo::pngs).toList();
        long callsBefore = batchRows().count();

        List<Job> jobs = MixedLoad.ALL.stream().map(request -> service.submit(request, EngineTesting.CLIENT)).toList();
        List<GenerationResult> results = jobs.stream().map(EngineTesting::result).toList();

        long calls = batchRows().count() - callsBefore;
        int serialCalls = MixedLoad.serialCalls(MixedLoad.ALL);
        assertTrue(calls < serialCalls, calls + " U-Net calls for " + serialCalls + " steps: nothing was batched");

        List<Integer> perImage = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            perImage.addAll(differences(results.get(i), expected.get(i)));
        }
        int max = perImage.stream().mapToInt(Integer::intValue).max().orElseThrow();
        long identical = perImage.stream().filter(difference -> difference == 0).count();
        System.out.printf("Batched vs solo: %d images of %d requests in %d U-Net calls (%d serially); max channel "
                + "difference %d grey level(s); %d of %d images identical (%.0f%%); per image %s%n", perImage.size(),
                results.size(), calls, serialCalls, max, identical, perImage.size(),
                100.0 * identical / perImage.size(), perImage);
        int underTest = MixedLoad.ALL.indexOf(MixedLoad.UNDER_TEST);
        assertTrue(differences(results.get(underTest), expected.get(underTest)).get(0) <= TOLERANCE);
        assertTrue(max <= TOLERANCE, "per-image max channel differences " + perImage);
    }

    @Test
    void requestJoiningMidwaySharesTheRemainingStepsAndMatchesItsSoloRun() throws Exception {
        GenerationRequest first = request("a long walk", 60, 100);
        GenerationRequest joining = request("a late arrival", 64, 64, 20, 3.0, "dpmpp_2m", 101);
        List<byte[]> firstSolo = solo.pngs(first);
        List<byte[]> joiningSolo = solo.pngs(joining);
        long callsBefore = batchRows().count();
        double rowsBefore = batchRows().totalAmount();

        CompletableFuture<Job> joined = new CompletableFuture<>();
        CompletableFuture<Integer> joinedAtStep = new CompletableFuture<>();
        Job job = service.submit(first, EngineTesting.CLIENT);
        // Progress is published on the worker between two steps, so a job submitted from the listener is
        // waiting in the queue before the next step: it joins at exactly the step that triggered it.
        job.subscribe(event -> {
            if (event instanceof JobEvent.Progress progress && progress.step() >= 20 && !joined.isDone()) {
                joinedAtStep.complete(progress.step());
                joined.complete(service.submit(joining, EngineTesting.CLIENT));
            }
        });

        GenerationResult firstResult = result(job);
        GenerationResult joiningResult = result(joined.get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS));

        assertTrue(first.steps() - joinedAtStep.get() >= joining.steps(),
                "joined too late, at step " + joinedAtStep.get());
        assertEquals(2.0 * (first.steps() + joining.steps()), batchRows().totalAmount() - rowsBefore,
                "two guided rows per step of each");
        assertEquals(first.steps(), batchRows().count() - callsBefore,
                "every step of the late request ran in a call of the first one");
        List<Integer> perImage = new ArrayList<>(differences(firstResult, firstSolo));
        perImage.addAll(differences(joiningResult, joiningSolo));
        System.out.printf("Joined at step %d: max channel difference to solo runs %s%n", joinedAtStep.get(), perImage);
        assertTrue(perImage.stream().allMatch(difference -> difference <= TOLERANCE), perImage.toString());
    }
}
