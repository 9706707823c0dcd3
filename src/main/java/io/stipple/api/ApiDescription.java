package io.stipple.api;

import io.stipple.access.AccessMode;
import io.stipple.config.StippleProperties;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import io.stipple.engine.JobFailedException;
import io.stipple.engine.JobFailure;
import io.stipple.engine.NotAcceptingException;
import io.stipple.engine.QueueFullException;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;
import org.springframework.boot.info.BuildProperties;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Component;
import org.springframework.web.HttpMediaTypeNotSupportedException;

/**
 * What the OpenAPI description ({@code /v3/api-docs}, shown by Swagger UI) cannot learn from the controllers'
 * annotations: the rules of the request body with this server's numbers (the model's sizes and defaults and
 * {@code stipple.limits.*}, taken from {@code GET /v1/model}, which reports what {@link RequestValidator}
 * enforces), the problems each operation can answer with ({@link ProblemResponses}), and examples. The
 * examples' details are the messages the server really writes.
 */
@Component
class ApiDescription implements OpenApiCustomizer {
    /** The documented example request (OpenApiTest sends it, as the description shows it, to see that it works). */
    static final Map<String, Object> EXAMPLE_REQUEST = Collections.unmodifiableMap(
            example("prompt", "a red circle on a blue background", "seed", 42));
    static final String PROBLEM_SCHEMA = "Problem";
    private static final String JSON = org.springframework.http.MediaType.APPLICATION_JSON_VALUE;
    private static final String PROBLEM_JSON = org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE;
    /**
     * Matches a string that is not blank in Java's sense ({@link String#isBlank()}): a character other than
     * those {@link Character#isWhitespace} accepts. JSON Schema's {@code \S} would be close, but it counts
     * no-break spaces as blank and U+001C to U+001F as not.
     */
    static final String NOT_BLANK = "[^\\t-\\r\\x1C- \\u1680\\u2000-\\u2006\\u2008-\\u200A\\u2028\\u2029\\u205F\\u3000]";
    private static final String BEARER = "bearer";
    private static final String API_KEY = "apiKey";
    private static final String EXAMPLE_ID = "0b5c9d6e-5a0c-4b8e-9a55-2f1f3c8e7d21";

    private final ModelController.ModelInfo model;
    private final RequestValidator validator;
    private final ProblemResponses problems;
    private final StippleProperties properties;
    private final AccessMode access;
    /** {@code stipple.limits.*} as an unconfigured server has them. */
    private final StippleProperties.Limits defaultLimits;
    private final String version;

    ApiDescription(ModelController model, RequestValidator validator, ProblemResponses problems,
            StippleProperties properties, AccessMode access, ObjectProvider<BuildProperties> build) {
        this.model = model.model();
        this.access = access;
        this.validator = validator;
        this.problems = problems;
        this.properties = properties;
        this.defaultLimits = new Binder(new MapConfigurationPropertySource())
                .bindOrCreate("stipple", StippleProperties.class).limits();
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
        api.getComponents().addSchemas(PROBLEM_SCHEMA, problemSchema());

        Operation generate = operation(api, "/generate", HttpMethod.POST);
        requestExample(generate);
        generate.getResponses().get("200").getContent().get(JSON).example(exampleAnswer());
        problems(generate, invalid("/generate"), notAcceptable(), tooLarge("/generate"), bodyTooSlow("/generate"),
                unsupported("/generate"), queueFull("/generate"), modelFailed(), unavailableOrLate());

        Operation submit = operation(api, JobsController.JOBS, HttpMethod.POST);
        requestExample(submit);
        problems(submit, invalid(JobsController.JOBS), tooLarge(JobsController.JOBS), bodyTooSlow(JobsController.JOBS),
                unsupported(JobsController.JOBS), queueFull(JobsController.JOBS), shuttingDown(JobsController.JOBS));

        String job = JobsController.JOBS + "/{id}";
        String exampleJob = JobsController.JOBS + "/" + EXAMPLE_ID;
        problems(operation(api, job, HttpMethod.GET), unknownJob(exampleJob));
        problems(operation(api, job, HttpMethod.DELETE), unknownJob(exampleJob), conflict(exampleJob,
                "The job has already finished.", "Job " + EXAMPLE_ID + " has already succeeded; there is nothing "
                        + "to cancel"));
        problems(operation(api, job + "/events", HttpMethod.GET), unknownJob(exampleJob + "/events"));
        problems(operation(api, job + "/images/{n}", HttpMethod.GET), unknownJob(exampleJob + "/images/0"),
                conflict(exampleJob + "/images/0", "The job has not succeeded (yet).",
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
            problems(operation, unauthorized(path.replace("{id}", EXAMPLE_ID).replace("{n}", "0")
                    .replace("{name}", model.name())));
        }));
    }

    private Problem unauthorized(String path) {
        return new Problem("No API key or token, or one that is not valid (then `WWW-Authenticate` adds "
                + "`error=\"invalid_token\"`).", at(path, problems.unauthorized(
                new InsufficientAuthenticationException("no credential"))), null);
    }

    // --- the request body ------------------------------------------------------------------------------

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void describeRequest(Schema request) {
        ModelController.Defaults defaults = model.defaults();
        ModelController.Limits limits = model.limits();
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
                + configurable("max-steps", defaultLimits.maxSteps()) + "; never above " + RequestValidator.MAX_STEPS
                + ").")
                .minimum(BigDecimal.ONE).maximum(BigDecimal.valueOf(limits.maxSteps()))._default(defaults.steps());
        field(fields, "guidance_scale", "Classifier-free guidance scale; 1 or less means no guidance (one "
                + "U-Net pass, conditional only).")
                .minimum(BigDecimal.ZERO).maximum(BigDecimal.valueOf(limits.maxGuidanceScale()))
                ._default(defaults.guidanceScale());
        field(fields, "sampler", "The sampler (scheduler).")
                ._enum(model.samplers())._default(defaults.sampler());
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
                ._default(RequestValidator.DEFAULT_STRENGTH);
        field(fields, "mask_image", "Inpainting, with `init_image` of the same size: white repaints, black keeps "
                + "(grey from one half up counts as white). Outside the mask the result keeps the original pixels.");
    }

    private static String configurable(String limit, Object defaultValue) {
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
        ModelController.Defaults defaults = model.defaults();
        return example(
                "images", List.of(example("index", 0, "seed", EXAMPLE_REQUEST.get("seed"), "width", defaults.width(), "height",
                        defaults.height(), "png_base64", "iVBORw0KGgoAAAANSUhEUgAA…")),
                "parameters", example("model", model.name(), "prompt", EXAMPLE_REQUEST.get("prompt"), "negative_prompt", "",
                        "width", defaults.width(), "height", defaults.height(), "steps", defaults.steps(),
                        "guidance_scale", defaults.guidanceScale(), "sampler", defaults.sampler(), "eta",
                        defaults.eta(), "seed", EXAMPLE_REQUEST.get("seed"), "num_images", 1),
                "timings_ms", example("queue", 0.1, "text_encoding", 0.9, "denoising", 52.3, "decoding", 1.2,
                        "png_encoding", 1.4, "total", 55.9));
    }

    // --- problems ------------------------------------------------------------------------------------

    /**
     * One documented problem answer: when it happens, an example of the answer (status, headers and body, made
     * by {@link ProblemResponses} itself), and what {@code Retry-After} means where the answer has it.
     */
    private record Problem(String when, ResponseEntity<ProblemDetail> example, String retryAfter) {
    }

    private Problem invalid(String path) {
        // One more step than the limit is invalid on every model and configuration.
        GenerateRequestBody body = new GenerateRequestBody("a cat", null, null, null, model.limits().maxSteps() + 1,
                null, null, null, null, null, null, null, null, null);
        try {
            validator.validate(body);
        } catch (InvalidRequestException e) {
            return new Problem("Invalid values, malformed JSON, wrong types or unknown fields. `field` names the first "
                    + "field at fault, `errors` every broken rule.", at(path, problems.invalid(e)), null);
        }
        throw new IllegalStateException("The example of an invalid request is valid: " + body);
    }

    private Problem notAcceptable() {
        return new Problem("`Accept` allows neither `application/json` nor `image/png`, or asks for `image/png` with "
                + "`num_images` above 1.", at("/generate", problems.notAcceptable(new ResponseFormat.NotAcceptableException(
                "Accept: image/png returns a single image, but num_images is 2; ask for application/json to get "
                        + "several"))), null);
    }

    private Problem tooLarge(String path) {
        long limit = properties.limits().maxRequestSize().toBytes();
        return new Problem("The body is larger than " + limit + " bytes (" + configurable("max-request-size",
                defaultLimits.maxRequestSize().toBytes() + " bytes") + ").",
                at(path, problems.tooLarge(new RequestTooLargeException(limit))), null);
    }

    private Problem bodyTooSlow(String path) {
        Duration timeout = properties.limits().bodyTimeout();
        return new Problem("The body did not arrive in full within " + timeout.toMillis() / 1000.0 + " s of the headers "
                + "(`stipple.limits.body-timeout`).", at(path, problems.bodyTimeout(new RequestBodyTimeoutException(timeout))),
                null);
    }

    private static Problem unsupported(String path) {
        ProblemDetail body = new HttpMediaTypeNotSupportedException(org.springframework.http.MediaType.TEXT_PLAIN,
                List.of(org.springframework.http.MediaType.APPLICATION_JSON), HttpMethod.POST).getBody();
        return new Problem("`Content-Type` is not `application/json`.", at(path,
                ResponseEntity.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE).body(body)), null);
    }

    private Problem queueFull(String path) {
        int capacity = properties.queue().capacity();
        return new Problem("The queue is full (" + capacity + " requests waiting, `stipple.queue.capacity`, or the "
                + "work units of `stipple.queue.max-work` taken), or this client used up a quota of `stipple.clients.*` "
                + "(then `RateLimit-Policy` and `RateLimit` say which).",
                at(path, problems.queueFull(QueueFullException.jobs(capacity, 3))),
                "Seconds until a place is likely free, estimated from the recent completion rate");
    }

    private static Problem modelFailed() {
        FailureProblem failure = FailureProblem.of(JobFailure.withErrorId(JobFailure.Reason.MODEL_ERROR, "3f2a9c1d"));
        return new Problem("The model failed on this request.", at("/generate", ProblemResponses.problem(
                failure.status(), failure.title(), failure.detail(), List.of(), HttpHeaders.EMPTY)), null);
    }

    private Problem unavailableOrLate() {
        return new Problem("The server is shutting down, or the request did not finish within "
                + properties.request().timeout().toSeconds() + " s (`stipple.request.timeout`). Worth retrying.",
                at("/generate", problems.jobFailed(new JobFailedException(JobFailure.DEADLINE_EXCEEDED, null))),
                "Seconds to wait before retrying; sent when an admitted request ran out of time or was cut off by "
                        + "the shutdown");
    }

    private Problem shuttingDown(String path) {
        return new Problem("The server is shutting down and takes no new jobs.", at(path, problems.notAccepting(
                new NotAcceptingException("The server is shutting down and takes no new requests"))), null);
    }

    private Problem unknownJob(String path) {
        return new Problem("No such job: the id is unknown, or the job finished more than `stipple.jobs.retention` "
                + "ago or was dropped for `stipple.jobs.results-budget`; or, for an image, no image with that index.",
                at(path, problems.jobProblem(ResourceProblemException.unknownJob(EXAMPLE_ID, properties.jobs().retention()))),
                null);
    }

    private Problem conflict(String path, String when, String detail) {
        return new Problem(when, at(path, problems.jobProblem(ResourceProblemException.conflict(detail))), null);
    }

    /** The answer as it reaches the client, whose {@code instance} is the request's path. */
    private static ResponseEntity<ProblemDetail> at(String path, ResponseEntity<ProblemDetail> answer) {
        answer.getBody().setInstance(URI.create(path));
        return answer;
    }

    private static void problems(Operation operation, Problem... problems) {
        for (Problem problem : problems) {
            ApiResponse response = new ApiResponse()
                    .description(problem.when())
                    .content(new Content().addMediaType(PROBLEM_JSON, new MediaType()
                            .schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM_SCHEMA))
                            .example(asJson(problem.example().getBody()))));
            if (problem.example().getHeaders().containsHeader(HttpHeaders.RETRY_AFTER)) {
                response.addHeaderObject(HttpHeaders.RETRY_AFTER, new Header()
                        .description(problem.retryAfter())
                        .schema(typed("integer").minimum(BigDecimal.ONE)));
            }
            operation.getResponses().addApiResponse(String.valueOf(problem.example().getStatusCode().value()), response);
        }
    }

    /** The JSON the server writes for a problem: the standard members, then the extensions. */
    private static Map<String, Object> asJson(ProblemDetail problem) {
        Map<String, Object> json = new LinkedHashMap<>();
        if (problem.getType() != null) {
            json.put("type", problem.getType().toString());
        }
        json.put("title", problem.getTitle());
        json.put("status", problem.getStatus());
        json.put("detail", problem.getDetail());
        json.put("instance", problem.getInstance().toString());
        if (problem.getProperties() != null) {
            json.putAll(problem.getProperties());
        }
        return json;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Schema<Object> problemSchema() {
        Schema violation = typed("object")
                .addProperty("field", typed("string").description("The JSON field"))
                .addProperty("message", typed("string").description("The rule it breaks, and the value it had"));
        return typed("object")
                .description("An RFC 9457 problem")
                .addProperty("type", typed("string").format("uri-reference")
                        .description("Absent, which means `about:blank`: the status says it all"))
                .addProperty("title", typed("string").description("The kind of problem"))
                .addProperty("status", typed("integer").format("int32").description("The HTTP status"))
                .addProperty("detail", typed("string").description("What went wrong, and what to change"))
                .addProperty("instance", typed("string").format("uri-reference").description("The request's path"))
                .addProperty("field", typed("string").description("400 only: the first field at fault"))
                .addProperty("errors", typed("array").items(violation)
                        .description("400 only: every broken rule, in the order of the fields"))
                .required(List.of("title", "status", "detail", "instance"));
    }

    // --- helpers -------------------------------------------------------------------------------------

    /**
     * A schema of one JSON type. OpenAPI 3.1 (springdoc's default) writes {@code types} and ignores
     * {@code type}, 3.0 the other way round, so both are set.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Schema typed(String type) {
        Schema schema = new Schema<>().type(type);
        schema.addType(type);
        return schema;
    }

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
