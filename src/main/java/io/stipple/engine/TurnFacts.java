package io.stipple.engine;

import java.util.List;

/**
 * What the scheduler knows when it plans a device turn: plain facts about the jobs waiting for the model and the
 * images on it, no tensors.
 *
 * @param waiting jobs in the queue, in the order the queue serves them
 * @param running images of the jobs on the model, in the order their jobs were admitted
 */
record TurnFacts(List<Waiting> waiting, List<Running> running) {

    /** @param rows the U-Net rows the job's images need per step */
    record Waiting(String jobId, int rows) {
    }

    /**
     * @param rows        the U-Net rows the image needs per step
     * @param lastStepped the turn the image was last stepped in (or admitted in, before its first step)
     * @param denoised    whether it has taken all its steps and waits to be decoded
     */
    record Running(ImageRef image, BatchKey key, int rows, long lastStepped, boolean denoised) {
    }
}
