package io.stipple.engine;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * What a device turn did, as plain data for the engine to act on.
 *
 * @param started             the joining jobs whose images started
 * @param textMillis          what encoding the joining jobs' text took
 * @param stepped             the images that took their step
 * @param steppedNanos        when the step ended, before the decode
 * @param decodes             the VAE calls that succeeded
 * @param failed              the jobs that cannot go on, each with why
 * @param stepOutOfMemoryAt   the fewest rows of a U-Net call that ran out of memory, 0 if none did
 * @param decodeOutOfMemoryAt the fewest images of a VAE call that ran out of memory, 0 if none did
 */
record TurnOutcome(List<JobTensors> started, double textMillis, List<ImageRef> stepped, long steppedNanos,
        List<Decode> decodes,
        List<JobError> failed, int stepOutOfMemoryAt, int decodeOutOfMemoryAt) {

    /** One VAE call: the images it decoded, their pixels in the same order, and how long it took. */
    record Decode(List<ImageRef> images, List<BufferedImage> pixels, double millis) {
    }
}
