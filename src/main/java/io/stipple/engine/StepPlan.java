package io.stipple.engine;

import java.util.List;

/**
 * What one device turn does, as the scheduler decided it.
 *
 * @param admit  jobs to take from the queue: their text is encoded and their images start
 * @param decode denoised images to decode, in one VAE call
 * @param step   images to step together, in one U-Net call: all of one {@link BatchKey}
 */
record StepPlan(List<String> admit, List<ImageRef> decode, List<ImageRef> step) {

    boolean isEmpty() {
        return admit.isEmpty() && decode.isEmpty() && step.isEmpty();
    }
}
