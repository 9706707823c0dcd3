package io.stipple.model;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.config.StippleProperties;
import io.stipple.sampling.SamplerCatalog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Opens and loads every served pipeline at startup; a bad directory stops the application with the reason. */
@Configuration(proxyBeanMethods = false)
class ModelConfiguration {
    private static final Logger log = LoggerFactory.getLogger(ModelConfiguration.class);
    private static final String EMBEDDED = "embedded";
    /**
     * glibc's tunable that backs its large allocations with transparent huge pages, so that libtorch's
     * gigabyte-sized activations do not pay a page fault every 4 KB. Read once at process start: it can only be
     * set in the JVM's environment.
     */
    private static final String HUGE_PAGES = "GLIBC_TUNABLES=glibc.malloc.hugetlb=1";

    @Bean(destroyMethod = "close")
    ServedModels servedModels(StippleProperties properties) {
        Map<PipelineDirectory, String> directories = new LinkedHashMap<>();
        if (properties.embeddedModels()) {
            EmbeddedModel.extractAll().forEach(root -> directories.put(PipelineDirectory.open(root), EMBEDDED));
        }
        List<Path> configured = new ArrayList<>();
        if (properties.modelDir() != null) {
            configured.add(properties.modelDir());
        }
        configured.addAll(properties.models());
        configured.forEach(root -> directories.put(PipelineDirectory.open(root), root.toString()));
        if (directories.isEmpty()) {
            throw new IllegalArgumentException("Nothing to serve: stipple.embedded-models is false and neither "
                    + "stipple.model-dir nor stipple.models names a pipeline directory");
        }

        Device device = Devices.resolve(properties.device());
        // libtorch's intra-op pool is one per process, so it is sized for the largest model
        int threads = properties.cpuThreads() != null ? properties.cpuThreads()
                : directories.keySet().stream().mapToInt(CpuThreads::forModel).max().orElse(1);
        if (threads < 1) {
            throw new IllegalArgumentException("stipple.cpu-threads must be at least 1, got " + threads);
        }
        JniUtils.setNumThreads(threads);
        Nnpack.disable();
        if (device.equals(Device.cpu()) && directories.keySet().stream().anyMatch(CpuThreads::isLarge)
                && !hugePagesRequested()) {
            log.warn("A model this size can run several times slower on the CPU when its tensors take a page fault "
                    + "every 4 KB (3.9x on one machine, docs/BENCHMARKS.md): start the JVM with the environment "
                    + "variable {}, as the Docker images do", HUGE_PAGES);
        }
        List<ServedModel> models = new ArrayList<>();
        try {
            directories.forEach((directory, source) -> models.add(load(directory, source, device, threads,
                    properties.cpuThreads() == null, properties.limits())));
            String defaultName = properties.defaultModel() != null ? properties.defaultModel()
                    : properties.modelDir() != null ? models.stream().filter(m -> !m.source().equals(EMBEDDED))
                            .findFirst().orElseThrow().name()
                    : models.get(0).name();
            return new ServedModels(models, defaultName);
        } catch (RuntimeException e) {
            models.forEach(model -> model.pipeline().close());
            throw e;
        }
    }

    private static ServedModel load(PipelineDirectory directory, String source, Device device, int threads,
            boolean threadsChosen, StippleProperties.Limits limits) {
        long start = System.nanoTime();
        LoadedPipeline pipeline = LoadedPipeline.load(directory, device);
        String name = directory.spec().name();
        log.info("Loaded pipeline \"{}\" from {} on {} ({} libtorch CPU threads{}) in {} ms", name,
                source.equals(EMBEDDED) ? "the application" : source, pipeline.device(), threads,
                threadsChosen ? ", chosen from the models' sizes" : "", (System.nanoTime() - start) / 1_000_000);
        SamplerCatalog samplers = new SamplerCatalog(directory.scheduler());
        return new ServedModel(name, pipeline, samplers, source, ModelCapabilities.of(directory.spec(), samplers,
                pipeline.vaeEncoder().isPresent(), limits));
    }

    private static boolean hugePagesRequested() {
        String tunables = System.getenv("GLIBC_TUNABLES");
        return tunables != null && tunables.contains("glibc.malloc.hugetlb=1");
    }
}
