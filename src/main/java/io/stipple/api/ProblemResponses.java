package io.stipple.api;

import io.stipple.api.InvalidRequestException.FieldViolation;
import io.stipple.engine.ErrorLog;
import io.stipple.engine.JobCancelledException;
import io.stipple.engine.JobFailedException;
import io.stipple.engine.JobFailure;
import io.stipple.engine.NotAcceptingException;
import io.stipple.engine.QueueFullException;
import io.stipple.engine.ClientLimitException;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.web.multipart.MultipartException;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;

/**
 * Every error a client can cause, as RFC 9457 {@code application/problem+json} with the field at
 * fault ({@code field}, and {@code errors} when there are several) and a message a person can act on.
 */
@RestControllerAdvice
class ProblemResponses extends ResponseEntityExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ProblemResponses.class);
    /** Fields of the IETF draft "RateLimit header fields for HTTP" (draft-ietf-httpapi-ratelimit-headers). */
    static final String RATE_LIMIT_POLICY = "RateLimit-Policy";
    static final String RATE_LIMIT = "RateLimit";

    @ExceptionHandler(InvalidRequestException.class)
    ResponseEntity<ProblemDetail> invalid(InvalidRequestException e) {
        return problem(HttpStatus.BAD_REQUEST, "Invalid request", e.getMessage(), e.violations(), HttpHeaders.EMPTY);
    }

    @ExceptionHandler(ResponseFormat.NotAcceptableException.class)
    ResponseEntity<ProblemDetail> notAcceptable(ResponseFormat.NotAcceptableException e) {
        return problem(HttpStatus.NOT_ACCEPTABLE, "Not acceptable", e.getMessage(), List.of(), HttpHeaders.EMPTY);
    }

    @ExceptionHandler(RequestTooLargeException.class)
    ResponseEntity<ProblemDetail> tooLarge(RequestTooLargeException e) {
        return problem(HttpStatus.CONTENT_TOO_LARGE, "Request too large", e.getMessage(), List.of(), HttpHeaders.EMPTY);
    }

    @ExceptionHandler(RequestBodyTimeoutException.class)
    ResponseEntity<ProblemDetail> bodyTimeout(RequestBodyTimeoutException e) {
        return problem(HttpStatus.REQUEST_TIMEOUT, "Request timeout", e.getMessage(), List.of(), HttpHeaders.EMPTY);
    }

    /** A multipart body that cannot be parsed (no boundary, cut short) is the client's error, not the server's. */
    @ExceptionHandler(MultipartException.class)
    ResponseEntity<ProblemDetail> malformedMultipart(MultipartException e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return problem(HttpStatus.BAD_REQUEST, "Malformed request body", "The multipart body could not be read: "
                + root.getMessage(), List.of(), HttpHeaders.EMPTY);
    }

    @ExceptionHandler(QueueFullException.class)
    ResponseEntity<ProblemDetail> queueFull(QueueFullException e) {
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
        return problem(HttpStatus.TOO_MANY_REQUESTS, "Too many requests", e.getMessage(), List.of(), headers);
    }

    @ExceptionHandler(ClientLimitException.class)
    ResponseEntity<ProblemDetail> clientLimit(ClientLimitException e) {
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
        headers.set(RATE_LIMIT_POLICY, e.policy());
        headers.set(RATE_LIMIT, e.current());
        return problem(HttpStatus.TOO_MANY_REQUESTS, "Too many requests", e.getMessage(), List.of(), headers);
    }

    /**
     * No credential, or one that is not valid: 401 with a Bearer challenge (RFC 6750), which
     * {@code error="invalid_token"} marks when a credential was sent.
     */
    @ExceptionHandler(AuthenticationException.class)
    ResponseEntity<ProblemDetail> unauthorized(AuthenticationException e) {
        boolean sent = !(e instanceof InsufficientAuthenticationException);
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"stipple\"" + (sent ? ", error=\"invalid_token\"" : ""));
        String detail = sent ? e.getMessage()
                : "This server needs an API key: send it as \"Authorization: Bearer <key>\" or \"X-API-Key: <key>\"";
        return problem(HttpStatus.UNAUTHORIZED, "Unauthorized", detail, List.of(), headers);
    }

    @ExceptionHandler(NotAcceptingException.class)
    ResponseEntity<ProblemDetail> notAccepting(NotAcceptingException e) {
        return problem(HttpStatus.SERVICE_UNAVAILABLE, "Service unavailable", e.getMessage(), List.of(),
                HttpHeaders.EMPTY);
    }

    @ExceptionHandler(JobFailedException.class)
    ResponseEntity<ProblemDetail> jobFailed(JobFailedException e) {
        JobFailure failure = e.failure();
        FailureProblem answer = FailureProblem.of(failure);
        if (!failure.retryable()) {
            return problem(answer.status(), answer.title(), answer.detail(), List.of(), HttpHeaders.EMPTY);
        }
        HttpHeaders headers = new HttpHeaders();
        headers.set(HttpHeaders.RETRY_AFTER, "1");
        return problem(answer.status(), answer.title(), answer.detail(), List.of(), headers);
    }

    /**
     * Any other runtime exception is the server's fault: a 500 with an error id, the trace only in the log.
     * Checked I/O exceptions (a client that hung up mid-answer) are left to Spring: there is no one to answer.
     */
    @ExceptionHandler(RuntimeException.class)
    ResponseEntity<ProblemDetail> unexpected(RuntimeException e, HttpServletRequest request) {
        String errorId = ErrorLog.write(log, request.getMethod() + " " + request.getRequestURI() + " failed", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "Internal server error",
                ErrorLog.clientMessage("The server failed on this request", errorId), List.of(), HttpHeaders.EMPTY);
    }

    @ExceptionHandler(ResourceProblemException.class)
    ResponseEntity<ProblemDetail> jobProblem(ResourceProblemException e) {
        return problem(e.status(), e.title(), e.getMessage(), List.of(), HttpHeaders.EMPTY);
    }

    @ExceptionHandler(JobCancelledException.class)
    ResponseEntity<ProblemDetail> jobCancelled(JobCancelledException e) {
        return problem(HttpStatus.CONFLICT, "Cancelled", e.getMessage(), List.of(), HttpHeaders.EMPTY);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return widen(problem(HttpStatus.BAD_REQUEST, "Malformed request body", describe(e), violationsOf(e),
                HttpHeaders.EMPTY));
    }

    /**
     * Spring's own problems (404, 405, 406, 415 and the like) are written as problem JSON whatever the
     * request's Accept header says: left to negotiation, an Accept header that cannot be parsed, or that
     * names only image/png, leaves the error without a body.
     */
    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode statusCode,
            WebRequest request) {
        ResponseEntity.BodyBuilder builder = ResponseEntity.status(statusCode).headers(headers);
        if (body instanceof ProblemDetail) {
            builder.contentType(MediaType.APPLICATION_PROBLEM_JSON);
        }
        return builder.body(body);
    }

    private static String describe(HttpMessageNotReadableException e) {
        UnrecognizedPropertyException unknown = causeOf(e, UnrecognizedPropertyException.class);
        if (unknown != null) {
            return "Unknown field \"" + unknown.getPropertyName() + "\"; known fields are " + unknown.getKnownPropertyIds();
        }
        MismatchedInputException mismatch = causeOf(e, MismatchedInputException.class);
        if (mismatch != null && !mismatch.getPath().isEmpty()) {
            String type = mismatch.getTargetType() == null ? "another type" : jsonType(mismatch.getTargetType());
            return "Field \"" + fieldOf(mismatch) + "\" must be " + type;
        }
        if (mismatch != null) {
            return "The request body must be a JSON object";
        }
        InputCoercionException range = causeOf(e, InputCoercionException.class);
        if (range != null && !range.getPath().isEmpty()) {
            return "Field \"" + fieldOf(range) + "\" is out of range for " + jsonType(range.getTargetType());
        }
        StreamReadException syntax = causeOf(e, StreamReadException.class);
        if (syntax != null) {
            return "The request body is not valid JSON: " + syntax.getOriginalMessage();
        }
        return "The request body is missing or unreadable";
    }

    private static List<FieldViolation> violationsOf(HttpMessageNotReadableException e) {
        JacksonException jackson = causeOf(e, JacksonException.class);
        if (jackson == null || jackson.getPath().isEmpty()) {
            return List.of();
        }
        return List.of(new FieldViolation(fieldOf(jackson), describe(e)));
    }

    private static String fieldOf(JacksonException e) {
        return e.getPath().get(e.getPath().size() - 1).getPropertyName();
    }

    private static String jsonType(Class<?> type) {
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "an integer";
        }
        if (type == Double.class || type == double.class) {
            return "a number";
        }
        if (type == String.class) {
            return "a string";
        }
        return "a " + type.getSimpleName();
    }

    private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (type.isInstance(cause)) {
                return type.cast(cause);
            }
        }
        return null;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static ResponseEntity<Object> widen(ResponseEntity<ProblemDetail> entity) {
        return (ResponseEntity) entity;
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatus status, String title, String detail,
            List<FieldViolation> violations, HttpHeaders headers) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        if (!violations.isEmpty()) {
            problem.setProperty("field", violations.get(0).field());
            problem.setProperty("errors", violations.stream()
                    .map(v -> Map.of("field", String.valueOf(v.field()), "message", v.message()))
                    .toList());
        }
        return ResponseEntity.status(status).headers(headers).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }
}
