package io.stipple.engine;

import io.stipple.config.StippleProperties;

/** The batcher's knobs, taken from {@code stipple.batch.*} and {@code stipple.preview.*}. */
record EngineSettings(int maxRows, boolean exact, int previewEvery, int previewWidth) {

    static EngineSettings from(StippleProperties properties) {
        return new EngineSettings(properties.batch().maxRows(), properties.batch().exact(),
                properties.preview().every(), properties.preview().width());
    }
}
