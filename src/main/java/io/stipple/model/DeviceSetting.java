package io.stipple.model;

import ai.djl.Device;
import ai.djl.engine.Engine;

/** {@code stipple.device}: where the pipeline runs. */
public enum DeviceSetting {
    /** The first CUDA GPU when DJL's libtorch sees one, else the CPU. */
    AUTO,
    CPU,
    GPU;

    public Device resolve() {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        return switch (this) {
            case CPU -> Device.cpu();
            case AUTO -> gpus > 0 ? Device.gpu() : Device.cpu();
            case GPU -> {
                if (gpus == 0) {
                    throw new IllegalStateException("stipple.device=gpu, but the PyTorch engine sees no CUDA GPU: "
                            + "check that a CUDA build of libtorch is installed (see docs/deployment.md, \"GPU deployment\")");
                }
                yield Device.gpu();
            }
        };
    }
}
