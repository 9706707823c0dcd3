package io.stipple.engine;

import io.stipple.pipeline.DenoisingImage;

/** An image in the batcher's rotation: which job it belongs to and the last round it was stepped in. */
final class ScheduledImage {
    final ActiveJob owner;
    final DenoisingImage image;
    long lastRound;

    ScheduledImage(ActiveJob owner, DenoisingImage image) {
        this.owner = owner;
        this.image = image;
    }
}
