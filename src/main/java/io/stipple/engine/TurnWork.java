package io.stipple.engine;

import io.stipple.pipeline.GenerationRequest;
import java.util.List;

/**
 * A {@link StepPlan} made concrete for the executor: the requests of the jobs joining, and the images to decode
 * and to step.
 */
record TurnWork(List<Joining> joining, List<BatchImage> decode, List<BatchImage> step) {

    /** A job taken from the queue: its text is encoded and its images start in this turn. */
    record Joining(String jobId, GenerationRequest request) {
    }
}
