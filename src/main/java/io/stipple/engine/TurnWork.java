package io.stipple.engine;

import io.stipple.pipeline.DenoisingImage;
import io.stipple.pipeline.GenerationRequest;
import java.util.List;
import java.util.function.Function;

/**
 * A {@link StepPlan} made concrete for the executor: the requests of the jobs joining, the images to step and then
 * to decode, and where the images already on the model are (those of the joining jobs start in the turn itself).
 *
 * @param running the image a reference names, for the jobs already on the model (null for another job)
 */
record TurnWork(List<Joining> joining, List<ImageRef> step, List<ImageRef> decode,
        Function<ImageRef, DenoisingImage> running) {

    /** A job taken from the queue: its text is encoded and its images start in this turn. */
    record Joining(String jobId, GenerationRequest request) {
    }
}
