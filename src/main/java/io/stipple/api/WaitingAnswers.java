package io.stipple.api;

import io.stipple.engine.GenerationService;
import io.stipple.engine.Job;
import io.stipple.pipeline.GenerationResult;
import jakarta.servlet.http.HttpServletRequest;
import java.util.function.Function;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.async.DeferredResult;

/**
 * The answer of a request that waits for its job (a synchronous generate, in Stipple's API or a compatibility
 * layer's), without holding a servlet thread. A client that hangs up cancels its job, so its rows leave the
 * batch at the next step instead of being computed for nobody.
 */
@Component
public class WaitingAnswers {
    private final GenerationService service;
    private final ClientConnections connections;

    WaitingAnswers(GenerationService service, ClientConnections connections) {
        this.service = service;
        this.connections = connections;
    }

    /** {@code answer} of the job's result once it succeeds; its failure, or whatever {@code answer} throws, otherwise. */
    public <T> DeferredResult<T> of(HttpServletRequest request, Job job, Function<GenerationResult, T> answer) {
        ClientConnections.Watch watch = connections.onDisconnect(request, () -> service.cancel(job));
        DeferredResult<T> response = new DeferredResult<>();
        response.onError(error -> service.cancel(job));
        job.completion().whenComplete((result, error) -> {
            watch.close();
            if (error != null) {
                response.setErrorResult(error);
                return;
            }
            try {
                response.setResult(answer.apply(result));
            } catch (RuntimeException e) {
                response.setErrorResult(e);
            }
        });
        return response;
    }
}
