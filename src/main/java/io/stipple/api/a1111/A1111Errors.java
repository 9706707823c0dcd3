package io.stipple.api.a1111;

import io.stipple.api.ErrorShape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.http.ProblemDetail;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** Errors on A1111's paths in the shape of A1111's API middleware: {@code {"error", "detail", "body", "errors"}}. */
@RestControllerAdvice
class A1111Errors extends ErrorShape {

    A1111Errors() {
        super(A1111Controller.PATH);
    }

    @Override
    protected Object shape(ProblemDetail problem) {
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("error", problem.getTitle());
        error.put("detail", problem.getDetail());
        error.put("body", "");
        error.put("errors", problem.getDetail());
        return error;
    }
}
