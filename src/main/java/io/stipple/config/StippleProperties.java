package io.stipple.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * {@code stipple.*} settings.
 *
 * @param modelDir pipeline directory to serve, and the default model unless {@code defaultModel} says otherwise
 * @param models   more pipeline directories to serve
 * @param embeddedModels whether the models embedded in the application are served beside the configured ones
 * @param defaultModel the name (in its pipeline.json) of the model that requests naming none get; unset, the
 *                 {@code modelDir}'s model, else the embedded default model
 * @param device   where the pipeline runs: auto (CUDA when present), cpu or gpu
 * @param cpuThreads libtorch intra-op threads; unset chooses from the U-Net's size: one for small models,
 *                 where one thread beats several whose synchronisation costs more than it saves and leaves
 *                 the other cores to HTTP and PNG encoding, every core for large ones (docs/BENCHMARKS.md)
 */
@ConfigurationProperties("stipple")
public record StippleProperties(
        Path modelDir,
        @DefaultValue List<Path> models,
        @DefaultValue("true") boolean embeddedModels,
        String defaultModel,
        @DefaultValue("auto") DeviceSetting device,
        Integer cpuThreads,
        @DefaultValue Limits limits,
        @DefaultValue Queue queue,
        @DefaultValue Clients clients,
        @DefaultValue Batch batch,
        @DefaultValue Request request,
        @DefaultValue Jobs jobs,
        @DefaultValue Preview preview,
        @DefaultValue Shutdown shutdown,
        @DefaultValue Cors cors,
        @DefaultValue Security security) {

    /**
     * What one request may ask for.
     *
     * @param maxPixels      width × height budget per image
     * @param maxImages      cap on {@code num_images}
     * @param maxSteps       cap on {@code steps}
     * @param maxRequestSize larger bodies are refused with 413 before they are parsed; room for base64 init images
     * @param bodyTimeout    a body that has not arrived in full this long after the request's headers is
     *                       refused with 408: slow senders cannot hold HTTP threads for long
     */
    public record Limits(
            @DefaultValue("2000") int maxPromptLength,
            @DefaultValue("1048576") long maxPixels,
            @DefaultValue("8") int maxImages,
            @DefaultValue("150") int maxSteps,
            @DefaultValue("8MB") DataSize maxRequestSize,
            @DefaultValue("10s") Duration bodyTimeout) {
    }

    /**
     * The admission queue, bounded by jobs and by the work they wait with; past either bound requests are
     * refused with 429.
     *
     * @param capacity jobs that may wait for the model
     * @param maxWork  work units that may wait: latent pixels × steps × U-Net rows (two per guided image);
     *                 unset, {@code capacity} times the work of the model's default request
     */
    public record Queue(@DefaultValue("32") int capacity, Long maxWork) {
    }

    /**
     * What each client may use. A client is an API key or token subject, or the caller's address when access
     * control is off. Past a limit requests are refused with 429 and {@code Retry-After}.
     *
     * @param requestsPerMinute generation requests admitted per minute, in bursts of up to as many; 0: no limit
     * @param concurrentImages  images queued or running at once; 0: no limit
     */
    public record Clients(@DefaultValue("0") int requestsPerMinute, @DefaultValue("0") int concurrentImages) {
    }

    /**
     * How denoising steps are batched across requests.
     *
     * @param maxRows cap on U-Net rows per call (a guided image needs two), sized for device memory
     * @param exact   one image per U-Net call: bit-identical to a request served alone, at the cost of
     *                throughput under load
     */
    public record Batch(@DefaultValue("16") int maxRows, @DefaultValue("false") boolean exact) {
    }

    /** @param timeout a request not finished this long after admission is answered with 503 */
    public record Request(@DefaultValue("120s") Duration timeout) {
    }

    /**
     * Results of async jobs.
     *
     * @param retention     how long a finished job stays readable
     * @param resultsBudget PNG bytes kept in memory for finished jobs; the oldest are dropped beyond it
     */
    public record Jobs(@DefaultValue("10m") Duration retention, @DefaultValue("256MB") DataSize resultsBudget) {
    }

    /**
     * @param every  a job's progress events carry a preview image every this many steps (0: never)
     * @param width  preview width in pixels
     */
    public record Preview(@DefaultValue("4") int every, @DefaultValue("128") int width) {
    }

    /** @param grace in-flight work gets this long to finish at shutdown; what remains is answered with 503 */
    public record Shutdown(@DefaultValue("30s") Duration grace) {
    }

    /**
     * Cross-origin access from browsers.
     *
     * @param allowedOrigins origins (such as {@code https://app.example.com}) whose pages may call the API;
     *                       empty, the default, allows no cross-origin access
     */
    public record Cors(@DefaultValue List<String> allowedOrigins) {
    }

    /**
     * Access control: off unless API keys or a JWT issuer
     * ({@code spring.security.oauth2.resourceserver.jwt.*}) are configured.
     *
     * @param apiKeys           keys given in the configuration, typically from a secret's environment variables
     * @param apiKeysFile       a file of {@code <client name> <sha256 hex>} lines: keys stored hashed
     * @param protectPrometheus whether {@code /actuator/prometheus} needs a key too; the health probes never do
     */
    public record Security(@DefaultValue List<ApiKey> apiKeys, Path apiKeysFile,
            @DefaultValue("false") boolean protectPrometheus) {
    }

    /**
     * One API key and the client it stands for; exactly one of {@code key} and {@code sha256} is given.
     *
     * @param name   the client: what rate limits, fair queuing, metrics and logs know it by
     * @param key    the key itself
     * @param sha256 the SHA-256 hash of the key, in hex
     */
    public record ApiKey(String name, String key, String sha256) {
    }
}
