package io.stipple.model;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.config.StippleProperties;
import io.stipple.sampling.SamplerCatalog;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Opens and loads the pipeline at startup; a bad directory stops the application with the reason. */
@Configuration(proxyBeanMethods = false)
class ModelConfiguration {
    private static final Logger log = LoggerFactory.getLogger(ModelConfiguration.class);
    /**
     * glibc's tunable that backs its large allocations with transparent huge pages, so that libtorch's
     * gigabyte-sized activations do not pay a page fault every 4 KB. Read once at process start: it can only be
     * set in the JVM's environment.
     */
    private static final String HUGE_PAGES = "GLIBC_TUNABLES=glibc.malloc.hugetlb=1";

    @Bean(destroyMethod = "close")
    LoadedPipeline loadedPipeline(StippleProperties properties) {
        Path root = properties.modelDir() != null ? properties.modelDir() : EmbeddedModel.extract();
        PipelineDirectory directory = PipelineDirectory.open(root);
        long start = System.nanoTime();
        Device device = properties.device().resolve();
        int threads = properties.cpuThreads() != null ? properties.cpuThreads() : CpuThreads.forModel(directory);
        if (threads < 1) {
            throw new IllegalArgumentException("stipple.cpu-threads must be at least 1, got " + threads);
        }
        JniUtils.setNumThreads(threads);
        Nnpack.disable();
        if (device.equals(Device.cpu()) && CpuThreads.isLarge(directory) && !hugePagesRequested()) {
            log.warn("A model this size runs about 4x slower on the CPU without transparent huge pages for its "
                    + "tensors: start the JVM with the environment variable {} (docs/BENCHMARKS.md)", HUGE_PAGES);
        }
        LoadedPipeline pipeline = LoadedPipeline.load(directory, device);
        log.info("Loaded pipeline \"{}\" from {} on {} ({} libtorch CPU threads{}) in {} ms", directory.spec().name(),
                properties.modelDir() != null ? root : "the embedded default model", pipeline.device(), threads,
                properties.cpuThreads() != null ? "" : ", chosen from the model's size", (System.nanoTime() - start) / 1_000_000);
        return pipeline;
    }

    private static boolean hugePagesRequested() {
        String tunables = System.getenv("GLIBC_TUNABLES");
        return tunables != null && tunables.contains("glibc.malloc.hugetlb=1");
    }

    @Bean
    SamplerCatalog samplerCatalog(LoadedPipeline pipeline) {
        return new SamplerCatalog(pipeline.directory().scheduler());
    }
}
