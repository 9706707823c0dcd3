package io.stipple.engine;

import io.stipple.model.ServedModel;

/**
 * One served model's side of the engine: its admission queue, the rate it serves work at, its meters, and the
 * {@link EngineLoop} on the thread that owns the model. Each model batches only its own requests, since one
 * U-Net call can only hold rows of one network.
 */
record ModelWorker(ServedModel model, AdmissionQueue queue, ServiceRate rate, EngineMetrics metrics,
        EngineLoop loop, Thread thread) {

    boolean alive() {
        return thread.isAlive();
    }
}
