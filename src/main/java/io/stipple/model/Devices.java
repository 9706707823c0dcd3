package io.stipple.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.stipple.config.DeviceSetting;

/** The device a {@link DeviceSetting} means on this machine. */
public final class Devices {
    private Devices() {
    }

    public static Device resolve(DeviceSetting setting) {
        int gpus = Engine.getEngine("PyTorch").getGpuCount();
        return switch (setting) {
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
