package io.stipple.engine;

import io.stipple.pipeline.DenoisingImage;

/** An image handed to the executor for a call, with the reference the call's outcome names it by. */
record BatchImage(ImageRef ref, DenoisingImage image) {

    String jobId() {
        return ref.jobId();
    }
}
