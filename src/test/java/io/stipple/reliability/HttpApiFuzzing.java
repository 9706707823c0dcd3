package io.stipple.reliability;

import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import java.net.http.HttpResponse;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

/**
 * The fuzzing property, run against whichever server a subclass starts: every request of a {@link FuzzRun}
 * is one dynamic test, answered as {@link ApiContract} says. The run prints its seed first and its
 * statistics last; it stops at its first failure, which names its case, its request and how to replay it.
 */
public abstract class HttpApiFuzzing {
    /** How often, in requests, a plain valid request checks that the server still works. */
    private static final int LIVENESS_EVERY = 100;
    /** Display names show the start of a path: some are thousands of characters long. */
    private static final int NAMED_PATH = 80;

    private boolean failed;

    protected abstract FuzzTarget target();

    @TestFactory
    public Stream<DynamicTest> everyAnswerIsASuccessOrAProblem() {
        FuzzRun run = FuzzRun.fromSystemProperties();
        FuzzStatistics statistics = new FuzzStatistics();
        System.out.println(run.announcement());
        // Cases are drawn as JUnit runs them, so none is drawn once one has failed.
        Stream<DynamicTest> cases = run.cases(target().cases()).takeWhile(fuzzCase -> !failed).flatMap(fuzzCase -> {
            DynamicTest request = dynamicTest(name(fuzzCase), () -> check(run, fuzzCase, statistics));
            return (fuzzCase.index() + 1) % LIVENESS_EVERY == 0
                    ? Stream.of(request, dynamicTest("a valid request still succeeds after case " + fuzzCase.index(),
                            stillServes(run, statistics)))
                    : Stream.of(request);
        });
        Executable last = () -> {
            System.out.println(statistics.summary());
            stillServes(run, statistics).execute();
        };
        return Stream.concat(cases, Stream.of(dynamicTest("a valid request still succeeds after the last case", last)));
    }

    private void check(FuzzRun run, FuzzRun.Case fuzzCase, FuzzStatistics statistics) {
        try {
            HttpResponse<byte[]> response = target().send(fuzzCase.request());
            statistics.count(fuzzCase.request(), response.statusCode());
            ApiContract.assertSuccessOrProblem(fuzzCase.request(), response);
        } catch (AssertionError | RuntimeException e) {
            failed = true;
            throw run.failure(fuzzCase, e);
        }
    }

    private Executable stillServes(FuzzRun run, FuzzStatistics statistics) {
        return () -> {
            try {
                target().assertValidRequestSucceeds();
            } catch (AssertionError | RuntimeException e) {
                failed = true;
                throw run.failureAfter(statistics.sent(), e);
            }
        };
    }

    private static String name(FuzzRun.Case fuzzCase) {
        FuzzRequest request = fuzzCase.request();
        String path = request.pathAndQuery();
        return "case " + fuzzCase.index() + ": [" + request.category() + "] " + request.method() + " "
                + (path.length() > NAMED_PATH ? path.substring(0, NAMED_PATH) + "…" : path);
    }
}
