package io.stipple.reliability;

import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * One fuzzing run: how many cases, from which seed, and how to replay them. Case i is drawn from its own
 * generator, seeded with the i-th number of the run's seed, so the cases depend on the seed alone (not on
 * the server's answers) and any one of them can be drawn without the others.
 *
 * <p>Set by system properties, which Maven passes on from its command line: {@value #TRIES} (the build
 * sets it: 300, 10,000 with {@code -Pfuzz}), {@value #SEED} (else a random one) and {@value #CASE} (only
 * that case of the run).
 */
record FuzzRun(long seed, int tries, OptionalInt only) {
    static final String TRIES = "stipple.fuzz.tries";
    static final String SEED = "stipple.fuzz.seed";
    static final String CASE = "stipple.fuzz.case";
    /** The build's number, for a run started outside Maven. */
    private static final int DEFAULT_TRIES = 300;

    /** One request of the run and its place in it. */
    record Case(int index, FuzzRequest request) {
    }

    static FuzzRun fromSystemProperties() {
        Long seed = Long.getLong(SEED);
        Integer only = Integer.getInteger(CASE);
        return new FuzzRun(seed != null ? seed : new SplittableRandom().nextLong(), Integer.getInteger(TRIES, DEFAULT_TRIES),
                only != null ? OptionalInt.of(only) : OptionalInt.empty());
    }

    /** The run's cases in order, drawn as they are consumed. */
    Stream<Case> cases(FuzzCases generator) {
        long[] caseSeeds = new SplittableRandom(seed).longs(tries).toArray();
        return IntStream.range(0, tries).filter(index -> only.isEmpty() || only.getAsInt() == index)
                .mapToObj(index -> new Case(index, generator.next(new FuzzRandom(caseSeeds[index]))));
    }

    /** The one line a run prints before its first request. */
    String announcement() {
        String which = only.isPresent() ? "case " + only.getAsInt() + " of " + tries : tries + " cases";
        return "HTTP API fuzzing: " + which + " from seed " + seed + " (-D" + SEED + "=" + seed + " replays them)";
    }

    /** What went wrong, with what was sent and how to send it again. */
    AssertionError failure(Case failed, Throwable cause) {
        return new AssertionError("case " + failed.index() + " of seed " + seed + ": " + cause.getMessage()
                + "\n  request: " + failed.request()
                + "\n  replay: -D" + SEED + "=" + seed + " (the whole run), with -D" + CASE + "=" + failed.index()
                + " (this request alone)", cause);
    }

    /** A failure of the server after {@code sent} requests, which no single request explains. */
    AssertionError failureAfter(int sent, Throwable cause) {
        return new AssertionError("after " + sent + " requests of seed " + seed + ": " + cause.getMessage()
                + "\n  replay: -D" + SEED + "=" + seed, cause);
    }
}
