package io.stipple.api;

import io.stipple.access.AccessMode;
import io.stipple.config.StippleProperties;
import io.stipple.model.ModelCapabilities;
import io.stipple.model.ServedModels;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import java.math.BigDecimal;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.info.BuildProperties;
import org.springframework.http.HttpMethod;
import org.springframework.stereotype.Component;

/**
 * What the OpenAPI description ({@code /v3/api-docs}, shown by Swagger UI) cannot learn from the controllers'
 * annotations: the rules of the request body with this server's numbers (the default model's
 * {@link ModelCapabilities}, which {@link RequestValidator} enforces), the problems each operation can answer with
 * ({@link ProblemExamples}), and examples. The examples' details are the messages the server really writes.
 */
@Component
class ApiDescription implements OpenApiCustomizer {
    /** The documented example request (OpenApiTest sends it, as the description shows it, to see that it works). */
    static final Map<String, Object> EXAMPLE_REQUEST = Collections.unmodifiableMap(
            example("prompt", "a red circle on a blue background", "seed", 42));
    private static final String JSON = org.springframework.http.MediaType.APPLICATION_JSON_VALUE;
    /**
     * Matches a string that is not blank in Java's sense ({@link String#isBlank()}): a character other than
     * those {@link Character#isWhitespace} accepts. JSON Schema's {@code \S} would be close, but it counts
     * no-break spaces as blank and U+001C to U+001F as not.
     */
    static final String NOT_BLANK = "[^\\t-\\r\\x1C- \\u1680\\u2000-\\u2006\\u2008-\\u200A\\u2028\\u2029\\u205F\\u3000]";
    private static final String BEARER = "bearer";
    private static final String API_KEY = "apiKey";
    private static final String EXAMPLE_ID = "0b5c9d6e-5a0c-4b8e-9a55-2f1f3c8e7d21";

    /** The default model's: what a request that names no model may ask for. */
    private final ModelCapabilities model;
    private final ProblemExamples examples;
    private final AccessMode access;
    /** {@code stipple.limits.*} as an unconfigured server has them. */
    private final StippleProperties.Limits defaultLimits;
    private final String version;

    ApiDescription(ServedModels models, RequestValidator validator, ProblemResponses problems,
            StippleProperties properties, AccessMode access, ObjectProvider<BuildProperties> build) {
        this.model = models.defaultModel().capabilities();
        this.access = access;
        this.defaultLimits = new Binder(new MapConfigurationPropertySource())
                .bindOrCreate("stipple", StippleProperties.class).limits();
        this.examples = new ProblemExamples(model, validator, problems, properties, defaultLimits, EXAMPLE_ID);
        BuildProperties buildProperties = build.getIfAvailable();
        this.version = buildProperties != null ? buildProperties.getVersion() : "unknown";
    }

    @Override
    public void customise(OpenAPI api) {
        api.info(new Info()
                .title("Stipple")
                .version(version)
                .description("""
                        Latent text-to-image generation: a prompt in, PNGs out. `POST /generate` answers when the \
                        images are ready; `POST /v1/jobs` admits the same request as a job to poll, follow as \
                        server-sent events, cancel, and fetch images from. Seeds make images reproducible.

                        The limits shown are this server's: they are configurable (`stipple.limits.*`; each \
                        field names its property and its default). Request defaults are the model's. Every \
                        error is an RFC 9457 `application/problem+json` body."""));
        Schema<?> request = api.getComponents().getSchemas().get(GenerateRequestBody.class.getSimpleName());
        if (request == null) {
            throw new IllegalStateException("No schema for the request body " + GenerateRequestBody.class.getName());
        }
        describeRequest(request);
        api.getComponents().addSchemas(ProblemExamples.SCHEMA, ProblemExamples.schema());

        Operation generate = operation(api, "/generate", HttpMethod.POST);
        requestExample(generate);
        generate.getResponses().get("200").getContent().get(JSON).example(exampleAnswer());
        ProblemExamples.document(generate, examples.invalid("/generate"), examples.notAcceptable(),
                examples.tooLarge("/generate"), examples.bodyTooSlow("/generate"), ProblemExamples.unsupported("/generate"),
                examples.queueFull("/generate"), ProblemExamples.modelFailed(), examples.unavailableOrLate());

        Operation submit = operation(api, JobsController.JOBS, HttpMethod.POST);
        requestExample(submit);
        String jobs = JobsController.JOBS;
        ProblemExamples.document(submit, examples.invalid(jobs), examples.tooLarge(jobs), examples.bodyTooSlow(jobs),
                ProblemExamples.unsupported(jobs), examples.queueFull(jobs), examples.shuttingDown(jobs));

        String job = jobs + "/{id}";
        String exampleJob = jobs + "/" + EXAMPLE_ID;
        ProblemExamples.document(operation(api, job, HttpMethod.GET), examples.unknownJob(exampleJob));
        ProblemExamples.document(operation(api, job, HttpMethod.DELETE), examples.unknownJob(exampleJob),
                examples.conflict(exampleJob, "The job has already finished.",
                        "Job " + EXAMPLE_ID + " has already succeeded; there is nothing to cancel"));
        ProblemExamples.document(operation(api, job + "/events", HttpMethod.GET),
                examples.unknownJob(exampleJob + "/events"));
        ProblemExamples.document(operation(api, job + "/images/{n}", HttpMethod.GET),
                examples.unknownJob(exampleJob + "/images/0"),
                examples.conflict(exampleJob + "/images/0", "The job has not succeeded (yet).",
                        "Job " + EXAMPLE_ID + " is running; its images are ready once it has succeeded"));
        if (access.required()) {
            requireCredentials(api);
        }
    }

    /** Every operation of the API needs an API key or a token, sent either way, and may answer 401 without one. */
    private void requireCredentials(OpenAPI api) {
        String bearerDescription = access.jwt() ? "An API key, or a JWT from the configured issuer" : "An API key";
        api.getComponents()
                .addSecuritySchemes(BEARER, new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                        .description(bearerDescription))
                .addSecuritySchemes(API_KEY, new SecurityScheme().type(SecurityScheme.Type.APIKEY)
                        .in(SecurityScheme.In.HEADER).name("X-API-Key").description("An API key"));
        api.getPaths().forEach((path, item) -> item.readOperations().forEach(operation -> {
            operation.security(List.of(new SecurityRequirement().addList(BEARER), new SecurityRequirement().addList(API_KEY)));
            ProblemExamples.document(operation, examples.unauthorized(path.replace("{id}", EXAMPLE_ID).replace("{n}", "0")
                    .replace("{name}", model.name())));
        }));
    }

    // --- the request body ------------------------------------------------------------------------------

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void describeRequest(Schema request) {
        ModelCapabilities.Defaults defaults = model.defaults();
        ModelCapabilities.Limits limits = model.limits();
        int multiple = limits.sizeMultiple();
        long maxSide = limits.maxPixels() / multiple / multiple * multiple;
        request.description("What to generate. Absent fields take the defaults shown, which are the model's.");
        request.required(List.of("prompt"));
        Map<String, Schema> fields = request.getProperties();

        field(fields, "prompt", "What to draw: not blank, at most " + limits.maxPromptLength() + " characters ("
                + configurable("max-prompt-length", defaultLimits.maxPromptLength()) + ").")
                .minLength(1).maxLength(limits.maxPromptLength()).pattern(NOT_BLANK);
        field(fields, "negative_prompt", "What to steer away from: the unconditional text of classifier-free "
                + "guidance. At most " + limits.maxPromptLength() + " characters, like the prompt.")
                .maxLength(limits.maxPromptLength())._default("");
        for (String side : List.of("width", "height")) {
            field(fields, side, "In pixels: a positive multiple of " + multiple + " (the model's "
                    + "size multiple), with width × height at most " + limits.maxPixels() + " ("
                    + configurable("max-pixels", defaultLimits.maxPixels()) + ").")
                    .minimum(BigDecimal.valueOf(multiple)).maximum(BigDecimal.valueOf(maxSide))
                    .multipleOf(BigDecimal.valueOf(multiple))
                    ._default(side.equals("width") ? defaults.width() : defaults.height());
        }
        field(fields, "steps", "Denoising steps: at most " + limits.maxSteps() + " ("
                + configurable("max-steps", defaultLimits.maxSteps()) + "; never above the model's training "
                + "timesteps, and an LCM sampler's below its distillation's steps).")
                .minimum(BigDecimal.ONE).maximum(BigDecimal.valueOf(limits.maxSteps()))._default(defaults.steps());
        field(fields, "guidance_scale", "Classifier-free guidance scale; 1 or less means no guidance (one "
                + "U-Net pass, conditional only).")
                .minimum(BigDecimal.ZERO).maximum(BigDecimal.valueOf(limits.maxGuidanceScale()))
                ._default(defaults.guidanceScale());
        field(fields, "sampler", "The sampler (scheduler).")
                ._enum(model.samplerNames())._default(defaults.sampler());
        field(fields, "eta", "DDIM's η: 0 is deterministic DDIM, 1 is DDPM-like. Only `ddim` takes a non-zero eta.")
                .minimum(BigDecimal.ZERO).maximum(BigDecimal.ONE)._default(defaults.eta());
        field(fields, "seed", "Seed of image 0; image i uses seed + i, so seed + num_images − 1 must not pass "
                + "2⁶³−1. Absent: the server draws one below 2⁵³ (exact in JavaScript) and returns it.")
                .minimum(BigDecimal.ZERO).maximum(BigDecimal.valueOf(Long.MAX_VALUE));
        field(fields, "num_images", "Images to generate, with seeds seed, seed + 1, …: at most "
                + limits.maxImages() + " (" + configurable("max-images", defaultLimits.maxImages()) + ").")
                .minimum(BigDecimal.ONE).maximum(BigDecimal.valueOf(limits.maxImages()))
                ._default(defaults.numImages());
        field(fields, "init_image", "Image-to-image: a PNG or JPEG to start from, base64 or a data URL, at most "
                + InitImages.MAX_DECODED_PIXELS + " pixels. It is resized to width × height; without them the size is "
                + "the image's, scaled down to the pixel budget and rounded down to the size multiple. Needs a model "
                + "with a VAE encoder.");
        field(fields, "strength", "With `init_image`: how far back towards noise the image goes. Only the last "
                + "int(steps × strength) steps run; 0 returns the image through the VAE, 1 keeps only its composition's "
                + "faintest trace.").minimum(BigDecimal.ZERO).maximum(BigDecimal.ONE)
                ._default(defaults.strength());
        field(fields, "clip_skip", "Text-encoder layers to skip back from the usual one for the prompt (diffusers' "
                + "`clip_skip`; AUTOMATIC1111's `CLIP_stop_at_last_layers` minus 1): at most " + limits.maxClipSkip()
                + " on this model, 0 where its export has no clip skip.")
                .minimum(BigDecimal.ZERO).maximum(BigDecimal.valueOf(limits.maxClipSkip()))._default(0);
        for (String size : List.of("original_size", "target_size")) {
            field(fields, size, "SDXL's size conditioning, [height, width]: " + (size.equals("original_size")
                    ? "the size the model should take the picture to have been" : "the size it should aim for")
                    + "; default the image's size. Only for models whose `size_conditioning` is true.");
        }
        field(fields, "crops_coords_top_left", "SDXL's size conditioning, [top, left]: where the picture is taken to "
                + "have been cropped; default [0, 0]. Only for models whose `size_conditioning` is true.");
        field(fields, "mask_image", "Inpainting, with `init_image` of the same size: white repaints, black keeps "
                + "(grey from one half up counts as white). Outside the mask the result keeps the original pixels.");
    }

    static String configurable(String limit, Object defaultValue) {
        return "configurable: `stipple.limits." + limit + "`, default " + defaultValue;
    }

    @SuppressWarnings("rawtypes")
    private static Schema field(Map<String, Schema> fields, String name, String description) {
        Schema field = fields.get(name);
        if (field == null) {
            throw new IllegalStateException("The request body has no field \"" + name + "\"");
        }
        return field.description(description);
    }

    private static void requestExample(Operation operation) {
        operation.getRequestBody().getContent().get(JSON).example(EXAMPLE_REQUEST);
    }

    private Map<String, Object> exampleAnswer() {
        ModelCapabilities.Defaults defaults = model.defaults();
        return example(
                "images", List.of(example("index", 0, "seed", EXAMPLE_REQUEST.get("seed"), "width", defaults.width(), "height",
                        defaults.height(), "png_base64", "iVBORw0KGgoAAAANSUhEUgAA…")),
                "parameters", example("model", model.name(), "prompt", EXAMPLE_REQUEST.get("prompt"), "negative_prompt", "",
                        "width", defaults.width(), "height", defaults.height(), "steps", defaults.steps(),
                        "guidance_scale", defaults.guidanceScale(), "sampler", defaults.sampler(), "eta",
                        defaults.eta(), "seed", EXAMPLE_REQUEST.get("seed"), "num_images", 1, "clip_skip", 0),
                "timings_ms", example("queue", 0.1, "text_encoding", 0.9, "denoising", 52.3, "decoding", 1.2,
                        "png_encoding", 1.4, "total", 55.9));
    }

    // --- helpers -------------------------------------------------------------------------------------

    private static Operation operation(OpenAPI api, String path, HttpMethod method) {
        PathItem item = api.getPaths().get(path);
        Operation operation = item == null ? null : item.readOperationsMap().get(PathItem.HttpMethod.valueOf(method.name()));
        if (operation == null) {
            throw new IllegalStateException("The API description has no operation " + method + " " + path);
        }
        return operation;
    }

    private static Map<String, Object> example(Object... namesAndValues) {
        Map<String, Object> example = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            example.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return example;
    }
}
