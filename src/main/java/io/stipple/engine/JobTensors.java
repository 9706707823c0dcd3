package io.stipple.engine;

import ai.djl.ndarray.NDManager;
import io.stipple.pipeline.DenoisingImage;
import java.util.List;

/**
 * A running job as the executor sees it: its images and the manager that owns their tensors (text states,
 * latents, sampler history), released as soon as the images are decoded or the job leaves early.
 */
record JobTensors(String jobId, NDManager manager, List<DenoisingImage> images) {

    void release() {
        images.forEach(DenoisingImage::close);
        manager.close();
    }
}
