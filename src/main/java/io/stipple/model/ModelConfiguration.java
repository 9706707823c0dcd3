package io.stipple.model;

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

    @Bean(destroyMethod = "close")
    LoadedPipeline loadedPipeline(StippleProperties properties) {
        Path root = properties.modelDir() != null ? properties.modelDir() : EmbeddedModel.extract();
        PipelineDirectory directory = PipelineDirectory.open(root);
        long start = System.nanoTime();
        LoadedPipeline pipeline = LoadedPipeline.load(directory, properties.device().resolve());
        log.info("Loaded pipeline \"{}\" from {} on {} in {} ms", directory.spec().name(),
                properties.modelDir() != null ? root : "the embedded default model", pipeline.device(),
                (System.nanoTime() - start) / 1_000_000);
        return pipeline;
    }

    @Bean
    SamplerCatalog samplerCatalog(LoadedPipeline pipeline) {
        return new SamplerCatalog(pipeline.directory().scheduler());
    }
}
