package io.stipple.api;

import io.stipple.engine.ErrorLog;
import io.swagger.v3.oas.annotations.Hidden;
import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The error page Tomcat forwards to when it fails a request itself, outside Spring MVC's handlers (a
 * request body whose reads time out, an exception thrown by a filter): problem JSON like every other error,
 * in place of Spring Boot's {@code {"timestamp", "error", ...}} page. Client errors keep Tomcat's message;
 * server errors are logged under an id, as {@link ProblemResponses} does.
 */
@Hidden
@RestController
class ContainerErrors implements ErrorController {
    private static final Logger log = LoggerFactory.getLogger(ContainerErrors.class);

    @RequestMapping("${server.error.path:${error.path:/error}}")
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        if (!(code instanceof Integer status)) {
            return ProblemResponses.problem(HttpStatus.NOT_FOUND, "Not Found", "No endpoint " + request.getRequestURI(),
                    List.of(), HttpHeaders.EMPTY);
        }
        HttpStatus known = HttpStatus.resolve(status);
        HttpStatus answer = known != null && known.isError() ? known : HttpStatus.INTERNAL_SERVER_ERROR;
        String uri = String.valueOf(request.getAttribute(RequestDispatcher.ERROR_REQUEST_URI));
        if (answer.is5xxServerError()) {
            Throwable cause = (Throwable) request.getAttribute(RequestDispatcher.ERROR_EXCEPTION);
            String errorId = ErrorLog.write(log, request.getMethod() + " " + uri + " failed in the web server", cause);
            return ProblemResponses.problem(answer, answer.getReasonPhrase(),
                    ErrorLog.clientMessage("The server failed on this request", errorId), List.of(), HttpHeaders.EMPTY);
        }
        Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
        String detail = message instanceof String text && !text.isBlank() ? text : answer.getReasonPhrase();
        return ProblemResponses.problem(answer, answer.getReasonPhrase(), detail, List.of(), HttpHeaders.EMPTY);
    }
}
