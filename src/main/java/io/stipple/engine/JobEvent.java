package io.stipple.engine;

import io.stipple.pipeline.GenerationResult;

/** What subscribers to a job hear, in order: queued, progress…, then exactly one terminal event. */
public sealed interface JobEvent {

    record Queued(int position) implements JobEvent {
    }

    /** {@code previewPng} is a small linear projection of the current latent, or null between previews. */
    record Progress(int step, int steps, byte[] previewPng) implements JobEvent {
    }

    record Succeeded(GenerationResult result) implements JobEvent {
    }

    record Failed(JobFailure failure) implements JobEvent {
    }

    record Cancelled() implements JobEvent {
    }
}
