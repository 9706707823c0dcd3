package io.stipple.api;

import io.stipple.config.StippleProperties;
import io.stipple.engine.JobFailedException;
import io.stipple.engine.JobFailure;
import io.stipple.engine.NotAcceptingException;
import io.stipple.engine.QueueFullException;
import io.stipple.model.ModelCapabilities;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.headers.Header;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import java.math.BigDecimal;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.web.HttpMediaTypeNotSupportedException;

/**
 * The problems the API description documents for each operation, each with an example that is the server's own
 * answer: made by {@link ProblemResponses} from the exception the server would throw, with this server's settings.
 */
final class ProblemExamples {
    static final String SCHEMA = "Problem";
    private static final String PROBLEM_JSON = org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE;

    private final ModelCapabilities model;
    private final RequestValidator validator;
    private final ProblemResponses problems;
    private final StippleProperties properties;
    /** {@code stipple.limits.*} as an unconfigured server has them. */
    private final StippleProperties.Limits defaultLimits;
    private final String exampleId;

    ProblemExamples(ModelCapabilities model, RequestValidator validator, ProblemResponses problems,
            StippleProperties properties, StippleProperties.Limits defaultLimits, String exampleId) {
        this.model = model;
        this.validator = validator;
        this.problems = problems;
        this.properties = properties;
        this.defaultLimits = defaultLimits;
        this.exampleId = exampleId;
    }

    Problem unauthorized(String path) {
        return new Problem("No API key or token, or one that is not valid (then `WWW-Authenticate` adds "
                + "`error=\"invalid_token\"`).", at(path, problems.unauthorized(
                new InsufficientAuthenticationException("no credential"))), null);
    }

    /**
     * One documented problem answer: when it happens, an example of the answer (status, headers and body, made
     * by {@link ProblemResponses} itself), and what {@code Retry-After} means where the answer has it.
     */
    record Problem(String when, ResponseEntity<ProblemDetail> example, String retryAfter) {
    }

    Problem invalid(String path) {
        // One more step than the limit is invalid on every model and configuration.
        GenerateRequestBody body = GenerateRequestBody.builder("a cat").steps(model.limits().maxSteps() + 1).build();
        try {
            validator.validate(body);
        } catch (InvalidRequestException e) {
            return new Problem("Invalid values, malformed JSON, wrong types or unknown fields. `field` names the first "
                    + "field at fault, `errors` every broken rule.", at(path, problems.invalid(e)), null);
        }
        throw new IllegalStateException("The example of an invalid request is valid: " + body);
    }

    Problem notAcceptable() {
        return new Problem("`Accept` allows neither `application/json` nor `image/png`, or asks for `image/png` with "
                + "`num_images` above 1.", at("/generate", problems.notAcceptable(new ResponseFormat.NotAcceptableException(
                "Accept: image/png returns a single image, but num_images is 2; ask for application/json to get "
                        + "several"))), null);
    }

    Problem tooLarge(String path) {
        long limit = properties.limits().maxRequestSize().toBytes();
        return new Problem("The body is larger than " + limit + " bytes (" + ApiDescription.configurable("max-request-size",
                defaultLimits.maxRequestSize().toBytes() + " bytes") + ").",
                at(path, problems.tooLarge(new RequestTooLargeException(limit))), null);
    }

    Problem bodyTooSlow(String path) {
        Duration timeout = properties.limits().bodyTimeout();
        return new Problem("The body did not arrive in full within " + timeout.toMillis() / 1000.0 + " s of the headers "
                + "(`stipple.limits.body-timeout`).", at(path, problems.bodyTimeout(new RequestBodyTimeoutException(timeout))),
                null);
    }

    static Problem unsupported(String path) {
        ProblemDetail body = new HttpMediaTypeNotSupportedException(org.springframework.http.MediaType.TEXT_PLAIN,
                List.of(org.springframework.http.MediaType.APPLICATION_JSON), HttpMethod.POST).getBody();
        return new Problem("`Content-Type` is not `application/json`.", at(path,
                ResponseEntity.status(HttpStatus.UNSUPPORTED_MEDIA_TYPE).body(body)), null);
    }

    Problem queueFull(String path) {
        int capacity = properties.queue().capacity();
        return new Problem("The queue is full (" + capacity + " requests waiting, `stipple.queue.capacity`, or the "
                + "work units of `stipple.queue.max-work` taken), or this client used up a quota of `stipple.clients.*` "
                + "(then `RateLimit-Policy` and `RateLimit` say which).",
                at(path, problems.queueFull(QueueFullException.jobs(capacity, 3))),
                "Seconds until a place is likely free, estimated from the recent completion rate");
    }

    static Problem modelFailed() {
        FailureProblem failure = FailureProblem.of(JobFailure.withErrorId(JobFailure.Reason.MODEL_ERROR, "3f2a9c1d"));
        return new Problem("The model failed on this request.", at("/generate", ProblemResponses.problem(
                failure.status(), failure.title(), failure.detail(), List.of(), HttpHeaders.EMPTY)), null);
    }

    Problem unavailableOrLate() {
        return new Problem("The server is shutting down, or the request did not finish within "
                + properties.request().timeout().toSeconds() + " s (`stipple.request.timeout`). Worth retrying.",
                at("/generate", problems.jobFailed(new JobFailedException(JobFailure.DEADLINE_EXCEEDED, null))),
                "Seconds to wait before retrying; sent when an admitted request ran out of time or was cut off by "
                        + "the shutdown");
    }

    Problem shuttingDown(String path) {
        return new Problem("The server is shutting down and takes no new jobs.", at(path, problems.notAccepting(
                new NotAcceptingException("The server is shutting down and takes no new requests"))), null);
    }

    Problem unknownJob(String path) {
        return new Problem("No such job: the id is unknown, or the job finished more than `stipple.jobs.retention` "
                + "ago or was dropped for `stipple.jobs.results-budget`; or, for an image, no image with that index.",
                at(path, problems.jobProblem(ResourceProblemException.unknownJob(exampleId, properties.jobs().retention()))),
                null);
    }

    Problem conflict(String path, String when, String detail) {
        return new Problem(when, at(path, problems.jobProblem(ResourceProblemException.conflict(detail))), null);
    }

    /** The answer as it reaches the client, whose {@code instance} is the request's path. */
    private static ResponseEntity<ProblemDetail> at(String path, ResponseEntity<ProblemDetail> answer) {
        answer.getBody().setInstance(URI.create(path));
        return answer;
    }

    static void document(Operation operation, Problem... problems) {
        for (Problem problem : problems) {
            ApiResponse response = new ApiResponse()
                    .description(problem.when())
                    .content(new Content().addMediaType(PROBLEM_JSON, new MediaType()
                            .schema(new Schema<>().$ref("#/components/schemas/" + SCHEMA))
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
    static Schema<Object> schema() {
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
}
