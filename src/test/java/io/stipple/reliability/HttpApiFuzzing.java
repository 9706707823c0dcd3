package io.stipple.reliability;

import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.statistics.Statistics;

/**
 * The fuzzing property, run against whichever server a subclass starts. The number of tries is jqwik's
 * default, {@code jqwik.tries.default}, which the build sets from {@code stipple.fuzz.tries} (a few hundred;
 * 10,000 with {@code -Pfuzz}). jqwik prints the seed of every run, and of a failing one its smallest failing
 * request; {@code -Djqwik.seed=...} replays it.
 */
public abstract class HttpApiFuzzing {
    /** How often, in tries, a plain valid request checks that the server still works. */
    private static final int LIVENESS_EVERY = 100;

    private final AtomicInteger tried = new AtomicInteger();

    protected abstract FuzzTarget target();

    @Provide
    public Arbitrary<FuzzRequest> requests() {
        return target().cases().all();
    }

    // No edge-case mixing: the categories keep the weights FuzzCases gives them, which already name the edge values.
    @Property(shrinking = ShrinkingMode.BOUNDED, edgeCases = EdgeCasesMode.NONE)
    public void everyAnswerIsASuccessOrAProblem(@ForAll("requests") FuzzRequest request) {
        HttpResponse<byte[]> response = target().send(request);
        Statistics.label("category").collect(request.category());
        Statistics.label("status").collect(response.statusCode());
        ApiContract.assertSuccessOrProblem(request, response);
        if (tried.incrementAndGet() % LIVENESS_EVERY == 0) {
            target().assertValidRequestSucceeds();
        }
    }

    @AfterProperty
    public void aValidRequestStillSucceeds() {
        target().assertValidRequestSucceeds();
    }
}
