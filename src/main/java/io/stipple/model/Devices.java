package io.stipple.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import io.stipple.config.DeviceSetting;
import java.nio.file.Path;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The device a {@link DeviceSetting} means on this machine. */
public final class Devices {
    private static final Logger log = LoggerFactory.getLogger(Devices.class);

    private Devices() {
    }

    /** The device, and one log line that says which and why (DJL's own CUDA probe is silenced in application.yaml). */
    public static Device resolve(DeviceSetting setting) {
        Engine engine = Engine.getEngine("PyTorch");
        boolean cudaBuild = engine.hasCapability(StandardCapabilities.CUDA);
        int gpus = engine.getGpuCount();
        String named = "stipple.device=" + setting.name().toLowerCase(Locale.ROOT);
        String cpu = "the CPU (" + CpuDescription.of(Path.of("/proc/cpuinfo"), Runtime.getRuntime().availableProcessors())
                + ")";
        Device device = switch (setting) {
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
        if (device.isGpu()) {
            log.info("Running on CUDA device {} ({} visible): {}", device, gpus, named);
        } else if (setting == DeviceSetting.CPU) {
            log.info("Running on {}: {}", cpu, named);
        } else if (!cudaBuild) {
            log.info("No CUDA device: running on {}; {} and libtorch is a CPU build", cpu, named);
        } else {
            log.warn("No CUDA device: running on {}; {}, but this CUDA build of libtorch sees no GPU: check the "
                    + "driver (nvidia-smi) and that the container was given the GPU", cpu, named);
        }
        return device;
    }
}
