package io.stipple.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;

/**
 * libtorch's intra-op thread count when {@code stipple.cpu-threads} is unset. On the 5M-parameter default
 * model one thread is 2-3× faster per request than two (its operations are too small to split); on a
 * full-size Stable Diffusion U-Net two threads are about 2× faster than one (docs/BENCHMARKS.md). The U-Net's
 * file size tells the two apart without loading anything.
 */
final class CpuThreads {
    /** Between the default model's 17 MB U-Net and Stable Diffusion's 1.7 GB (float16) or 3.4 GB. */
    static final long LARGE_UNET_BYTES = 200L * 1024 * 1024;

    private CpuThreads() {
    }

    static int forModel(PipelineDirectory directory) {
        return isLarge(directory) ? Runtime.getRuntime().availableProcessors() : 1;
    }

    static boolean isLarge(PipelineDirectory directory) {
        try {
            return Files.size(directory.file(PipelineDirectory.UNET)) >= LARGE_UNET_BYTES;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
