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

    /**
     * @param images       how many images the job asks for
     * @param rowsPerImage the U-Net rows each of them needs per step
     * @param key          what its images must share with others to be stepped with them
     * @param steps        the steps each image takes (0: an image-to-image start at strength 0, decoded at once)
     */
    record Waiting(String jobId, int images, int rowsPerImage, BatchKey key, int steps) {

        int rows() {
            return images * rowsPerImage;
        }
    }

    /**
     * @param rows        the U-Net rows the image needs per step
     * @param lastStepped the turn the image was last stepped in (or admitted in, before its first step)
     * @param stepsLeft   the steps it has still to take; 0 once denoised, when it waits to be decoded
     */
    record Running(ImageRef image, BatchKey key, int rows, long lastStepped, int stepsLeft) {

        boolean denoised() {
            return stepsLeft == 0;
        }
    }
}
