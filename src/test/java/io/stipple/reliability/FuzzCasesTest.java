package io.stipple.reliability;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The fuzzer's own generator: what a seed draws, how often each category comes, and what a failure says. */
class FuzzCasesTest {
    private static final String JOB = "3f2b6a4e-93c1-4a57-9d0e-8c1f5b7a2d64";
    private final FuzzCases cases = new FuzzCases(new ModelRules(4, 50, 4, 77, List.of("euler", "ddim")), JOB);

    @Test
    void theSameSeedDrawsTheSameRequestsAndAnotherSeedOthers() {
        assertEquals(drawn(42, 300), drawn(42, 300));
        assertNotEquals(drawn(42, 300), drawn(43, 300));
    }

    @Test
    void aCaseDrawnAloneIsTheCaseOfItsRun() {
        List<String> run = drawn(7, 300);
        List<FuzzRun.Case> alone = new FuzzRun(7, 300, OptionalInt.of(123)).cases(cases).toList();
        assertEquals(1, alone.size());
        assertEquals(123, alone.get(0).index());
        assertEquals(run.get(123), fingerprint(alone.get(0).request()));
    }

    @Test
    void everyCategoryComesAsOftenAsItsWeight() {
        // docs/RELIABILITY.md's shares, in 27ths.
        Map<String, Integer> weights = Map.ofEntries(Map.entry("json-tree", 3), Map.entry("wrong-type", 3),
                Map.entry("extreme-number", 3), Map.entry("huge-document", 1), Map.entry("invalid-utf8", 2),
                Map.entry("unicode-prompt", 2), Map.entry("content-type", 2), Map.entry("empty-body", 1),
                Map.entry("job-path", 3), Map.entry("method", 2), Map.entry("query", 2));
        int tries = 27 * 200;
        Map<String, Long> counts = new FuzzRun(1, tries, OptionalInt.empty()).cases(cases)
                .collect(Collectors.groupingBy(fuzzCase -> fuzzCase.request().category(), Collectors.counting()));
        assertEquals(weights.keySet(), counts.keySet());
        weights.forEach((category, weight) -> {
            double expected = tries * weight / 27.0;
            assertEquals(expected, counts.get(category), expected / 4, category + " in " + counts);
        });
    }

    @Test
    void hugeDocumentsStraddleTheRequestSizeLimitWithAndWithoutALength() {
        int limit = 8 * 1024 * 1024; // application.yaml's max-request-size
        List<FuzzRequest> huge = IntStream.range(0, 200).mapToObj(seed -> FuzzCases.hugeDocument(new FuzzRandom(seed)))
                .filter(request -> request.body().length >= limit - 1).toList();
        assertEquals(Set.of(limit - 1, limit, limit + 1),
                huge.stream().map(request -> request.body().length).collect(Collectors.toSet()));
        assertEquals(Set.of(false, true), huge.stream().map(FuzzRequest::chunked).collect(Collectors.toSet()));
    }

    @Test
    void aFailureNamesItsSeedItsCaseItsRequestCutShortAndHowToReplayIt() {
        FuzzRequest request = FuzzRequest.bodiless("job-path", "GET", "/v1/jobs/" + "x".repeat(5000));
        String message = new FuzzRun(-42, 300, OptionalInt.empty())
                .failure(new FuzzRun.Case(17, request), new AssertionError("answered 500")).getMessage();
        assertEquals("case 17 of seed -42: answered 500\n  request: [job-path] GET /v1/jobs/" + "x".repeat(291)
                + "… (5009 characters) []\n  replay: -Dstipple.fuzz.seed=-42 (the whole run), with -Dstipple.fuzz.case=17"
                + " (this request alone)", message);
    }

    private List<String> drawn(long seed, int tries) {
        return new FuzzRun(seed, tries, OptionalInt.empty()).cases(cases).map(fuzzCase -> fingerprint(fuzzCase.request())).toList();
    }

    /** Everything that is sent; bodies by length and hash, as some are 8MB. */
    private static String fingerprint(FuzzRequest request) {
        String body = request.body() == null ? "no body" : request.body().length + " bytes #" + Arrays.hashCode(request.body());
        return String.join(" | ", request.category(), request.method(), request.pathAndQuery(), request.headers().toString(),
                body, String.valueOf(request.chunked()));
    }
}
