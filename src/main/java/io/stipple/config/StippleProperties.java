package io.stipple.config;

import io.stipple.model.DeviceSetting;
import java.nio.file.Path;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code stipple.*} settings.
 *
 * @param modelDir pipeline directory to serve; unset serves the model embedded in the application
 * @param device   where the pipeline runs: auto (CUDA when present), cpu or gpu
 */
@ConfigurationProperties("stipple")
public record StippleProperties(
        Path modelDir,
        @DefaultValue("auto") DeviceSetting device,
        @DefaultValue Limits limits,
        @DefaultValue Queue queue) {

    /**
     * What one request may ask for.
     *
     * @param maxPixels      width × height budget per image
     * @param maxImages      cap on {@code num_images}
     * @param maxSteps       cap on {@code steps}
     * @param maxRequestSize larger bodies are refused with 413 before they are parsed
     */
    public record Limits(
            @DefaultValue("2000") int maxPromptLength,
            @DefaultValue("1048576") long maxPixels,
            @DefaultValue("8") int maxImages,
            @DefaultValue("150") int maxSteps,
            @DefaultValue("64KB") DataSize maxRequestSize) {
    }

    /** @param capacity requests that may wait for the model; more are refused with 429 */
    public record Queue(@DefaultValue("32") int capacity) {
    }
}
