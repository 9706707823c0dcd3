package io.stipple.shipped;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The kinds of client in the soak's mix, with their shares of its requests. Each is one request as a client
 * means it, with the calls that follow it (polls, the event stream, image downloads, the cancellation).
 */
enum SoakScenario {
    /** {@code POST /generate}, answered with JSON. */
    SYNC_JSON(20),
    /** {@code POST /generate} with {@code Accept: image/png}. */
    SYNC_PNG(14),
    /** {@code POST /v1/jobs}, polled until it has succeeded, then its images downloaded. */
    JOB_POLLED(14),
    /** {@code POST /v1/jobs}, its event stream read to the terminal event, then its first image downloaded. */
    JOB_STREAMED(12),
    /** {@code POST /v1/jobs} of a long job, {@code DELETE}d while queued or running. */
    JOB_CANCELLED(10),
    /** {@code POST /generate} of a long job over a raw socket, closed before the answer. */
    SYNC_DISCONNECTED(7),
    /** A long job whose event stream is closed after its first event; the job must still succeed. */
    STREAM_DISCONNECTED(5),
    /** One of a rotation of invalid requests, answered 4xx with a problem. */
    INVALID(18);

    final int weight;

    SoakScenario(int weight) {
        this.weight = weight;
    }

    /** {@code requests} scenarios drawn by weight from a fixed seed, so every soak runs the same sequence. */
    static List<SoakScenario> schedule(int requests, long seed) {
        int total = Arrays.stream(values()).mapToInt(scenario -> scenario.weight).sum();
        Random random = new Random(seed);
        List<SoakScenario> schedule = new ArrayList<>(requests);
        for (int i = 0; i < requests; i++) {
            int draw = random.nextInt(total);
            for (SoakScenario scenario : values()) {
                draw -= scenario.weight;
                if (draw < 0) {
                    schedule.add(scenario);
                    break;
                }
            }
        }
        return schedule;
    }
}
