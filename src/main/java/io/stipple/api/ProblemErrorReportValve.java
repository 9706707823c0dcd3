package io.stipple.api;

import java.io.IOException;
import java.io.Writer;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;
import org.apache.tomcat.util.json.JSONFilter;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;

/**
 * The answer Tomcat writes itself, for requests it refuses before they reach the application (a request
 * target with characters RFC 3986 forbids, an encoded slash or NUL in the path): the same RFC 9457 problem
 * JSON as every other error of the API, instead of Tomcat's HTML page. Only Tomcat's own message goes out,
 * and only for client errors; a server error says no more than its status.
 */
public class ProblemErrorReportValve extends ErrorReportValve {

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0 || !response.setErrorReported()) {
            return;
        }
        AtomicBoolean writable = new AtomicBoolean(false);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, writable);
        if (!writable.get()) {
            return;
        }
        HttpStatus known = HttpStatus.resolve(status);
        String title = known != null ? known.getReasonPhrase() : "HTTP " + status;
        String message = response.getMessage();
        String detail = status < 500 && message != null && !message.isBlank() ? message
                : "The HTTP server refused the request before it reached the API";
        String problem = "{\"type\":\"about:blank\",\"title\":\"" + JSONFilter.escape(title) + "\",\"status\":" + status
                + ",\"detail\":\"" + JSONFilter.escape(detail) + "\"}";
        try {
            response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
            response.setCharacterEncoding("utf-8");
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(problem);
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException clientGone) {
            // Nobody left to read the problem.
        }
    }
}
