package io.stipple.engine;

import java.util.List;

/**
 * What one device turn does, as the scheduler decided it, in this order.
 *
 * @param admit  jobs to take from the queue: their text is encoded and their images start
 * @param step   images to step together, in one U-Net call: all of one {@link BatchKey}, the joining jobs' among them
 * @param decode images denoised once the step is taken, to decode in one VAE call
 */
record StepPlan(List<String> admit, List<ImageRef> step, List<ImageRef> decode) {

    boolean isEmpty() {
        return admit.isEmpty() && decode.isEmpty() && step.isEmpty();
    }
}
