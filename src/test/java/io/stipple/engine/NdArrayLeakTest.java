package io.stipple.engine;

import static io.stipple.engine.EngineTesting.gauge;
import static io.stipple.engine.EngineTesting.liveNdArrays;
import static io.stipple.engine.EngineTesting.liveNdManagers;
import static io.stipple.engine.EngineTesting.request;
import static io.stipple.engine.EngineTesting.result;
import static io.stipple.engine.EngineTesting.submitHeldBack;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.micrometer.core.instrument.MeterRegistry;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.sampling.SamplerCatalog;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;

/**
 * Every tensor the engine makes is freed with the step, the job or the batch that made it: the numbers of
 * live NDArrays and NDManagers in the process do not grow with requests, nor with the steps of one job.
 */
@EngineTest
class NdArrayLeakTest {
    /** Jobs in flight at once: all of them run together (16 rows) and the queue never fills. */
    private static final int WAVE = 8;

    @Autowired
    GenerationService service;
    @Autowired
    ApplicationContext context;
    @Autowired
    MeterRegistry registry;

    /** Small and quick, cycling through every sampler, guided and not, so that each one's state is exercised. */
    private static GenerationRequest small(int i) {
        return request("leak check " + i, 32, 32, 5, i % 3 == 0 ? 1.0 : 5.0,
                SamplerCatalog.NAMES.get(i % SamplerCatalog.NAMES.size()), i);
    }

    private void serve(int from, int to) {
        for (int wave = from; wave < to; wave += WAVE) {
            IntStream.range(wave, Math.min(to, wave + WAVE)).mapToObj(i -> service.submit(small(i), EngineTesting.CLIENT)).toList()
                    .forEach(EngineTesting::result);
        }
    }

    @Test
    void liveArraysAndManagersDoNotGrowWithRequests() {
        List<Integer> before = List.of(liveNdArrays(), liveNdManagers());
        serve(0, 100);
        List<Integer> after100 = List.of(liveNdArrays(), liveNdManagers());
        serve(100, 300);
        List<Integer> after300 = List.of(liveNdArrays(), liveNdManagers());

        System.out.printf("Live NDArrays and NDManagers: %s before, %s after 100 requests, %s after 300%n", before,
                after100, after300);
        // Not compared with the count before: the first requests may meet a job of an earlier test still
        // leaving another engine, or warm a cache.
        assertEquals(after100, after300, "arrays and managers left behind by 200 requests");
        assertEquals(liveNdArrays(), gauge(registry, "stipple.ndarrays.live"),
                "the gauge that operators (and the soak test) watch counts the same arrays");
    }

    @Test
    void liveArraysAndManagersDoNotGrowFromStepToStep() {
        // Progress without a preview is published on the worker between two steps, when no step's
        // temporaries exist; the multistep sampler keeps one tensor from step to step, and replaces it.
        Map<Integer, List<Integer>> liveAtStep = new ConcurrentHashMap<>();
        Job job = submitHeldBack(context, request("a long one", 64, 64, 60, 5.0, "dpmpp_2m", 1),
                queued -> queued.subscribe(event -> {
                    if (event instanceof JobEvent.Progress progress && progress.previewPng() == null) {
                        liveAtStep.putIfAbsent(progress.step(), List.of(liveNdArrays(), liveNdManagers()));
                    }
                }));
        result(job);

        List<List<Integer>> counted = Arrays.asList(liveAtStep.get(2), liveAtStep.get(10), liveAtStep.get(59));
        System.out.printf("Live NDArrays and NDManagers during one 60-step job: %s at steps 2, 10, 59%n", counted);
        counted.forEach(count -> assertNotNull(count, "not counted at every step: " + liveAtStep.keySet()));
        assertEquals(liveAtStep.get(2), liveAtStep.get(59), "arrays and managers left behind by 57 steps");
        assertEquals(liveAtStep.get(10), liveAtStep.get(59));
    }
}
