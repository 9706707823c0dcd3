package io.stipple.config;

/** {@code stipple.device}: where the models run. */
public enum DeviceSetting {
    /** The first CUDA GPU when DJL's libtorch sees one, else the CPU. */
    AUTO,
    CPU,
    GPU
}
