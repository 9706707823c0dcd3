package io.stipple.api;

import io.stipple.access.ClientIdentity;
import io.stipple.config.StippleProperties;
import io.stipple.engine.GenerationService;
import io.stipple.engine.Job;
import io.stipple.engine.JobStatus;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationResult;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.net.URI;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;
import org.springframework.web.multipart.MultipartHttpServletRequest;

/**
 * Async jobs: {@code POST /v1/jobs} admits a request and answers at once; the job is then read by id
 * ({@code GET}), followed as server-sent events ({@code /events}), cancelled ({@code DELETE}), and its
 * PNGs fetched one by one ({@code /images/{n}}) until it expires ({@code stipple.jobs.retention}).
 */
@RestController
@Tag(name = "Jobs")
public class JobsController {
    static final String JOBS = "/v1/jobs";

    private final RequestValidator validator;
    private final GenerationService service;
    private final JobEventStreams streams;
    private final Duration retention;
    /** The current request (a proxy Spring binds to each request's thread): whose jobs it may see. */
    private final HttpServletRequest request;

    public JobsController(RequestValidator validator, GenerationService service, JobEventStreams streams,
            StippleProperties properties, HttpServletRequest request) {
        this.validator = validator;
        this.service = service;
        this.streams = streams;
        this.retention = properties.jobs().retention();
        this.request = request;
    }

    /** The same body and rules as {@code POST /generate}; 429 when the queue is full, 503 when shutting down. */
    @Operation(summary = "Submit a job", description = "Checks the request like `POST /generate` and answers at once.")
    @ApiResponse(responseCode = "202", description = "Admitted",
            headers = @Header(name = HttpHeaders.LOCATION, description = "The job: `/v1/jobs/{id}`", schema = @Schema(type = "string")),
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = JobView.Accepted.class)))
    @PostMapping(path = JOBS, consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<JobView.Accepted> submit(@RequestBody GenerateRequestBody body) {
        return accepted(body);
    }

    /** The same request as a form, like {@link GenerateController#generateForm}. */
    @Operation(hidden = true)
    @PostMapping(path = JOBS, consumes = MediaType.MULTIPART_FORM_DATA_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<JobView.Accepted> submitForm(MultipartHttpServletRequest form) {
        return accepted(FormFields.body(form));
    }

    private ResponseEntity<JobView.Accepted> accepted(GenerateRequestBody body) {
        Job job = service.submitJob(validator.validate(body), ClientIdentity.of(request));
        JobView view = view(job);
        return ResponseEntity.accepted()
                .location(URI.create(JOBS + "/" + job.id()))
                .body(new JobView.Accepted(job.id(), view.status(), view.queuePosition()));
    }

    @Operation(summary = "Read a job")
    @ApiResponse(responseCode = "200", description = "The job",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = JobView.class)))
    @GetMapping(path = JOBS + "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    public JobView job(@PathVariable String id) {
        return view(find(id));
    }

    /**
     * Cancels a queued job at once and a running one at its next step boundary, so the answer may still
     * say {@code running}. A job that has already finished cannot be cancelled (409).
     */
    @Operation(summary = "Cancel a job", description = "A queued job is cancelled at once, a running one at its next "
            + "step, so the answer may still say `running`.")
    @ApiResponse(responseCode = "202", description = "Cancellation under way",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = JobView.class)))
    @DeleteMapping(path = JOBS + "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    public ResponseEntity<JobView> cancel(@PathVariable String id) {
        Job job = find(id);
        if (!service.cancel(job)) {
            throw ResourceProblemException.conflict("Job " + id + " has already " + finishedAs(job.status())
                    + "; there is nothing to cancel");
        }
        return ResponseEntity.accepted().body(view(job));
    }

    /** The job's current state, then its progress, then one terminal event; the stream then ends. */
    @Operation(summary = "Follow a job", description = """
            Server-sent events. The first describes the job when the stream opens (`queued` with \
            `{"queue_position": n}`, `progress`, or the terminal event of a finished job); then `progress` \
            events `{"step": s, "steps": n}`, some with `preview`, a PNG data URL of the current latent. \
            Exactly one terminal event ends the stream: `succeeded` or `cancelled` (the job, as `GET` shows \
            it) or `failed` (`{"status", "title", "detail"}`). `:heartbeat` comment lines keep it open.""")
    @ApiResponse(responseCode = "200", description = "The event stream",
            content = @Content(mediaType = MediaType.TEXT_EVENT_STREAM_VALUE, schema = @Schema(type = "string")))
    @GetMapping(JOBS + "/{id}/events")
    public SseEmitter events(@PathVariable String id) {
        return streams.open(find(id));
    }

    @Operation(summary = "Fetch an image of a succeeded job")
    @ApiResponse(responseCode = "200", description = "The PNG",
            headers = @Header(name = GenerateController.SEED_HEADER, description = "The image's seed",
                    schema = @Schema(type = "integer", format = "int64")),
            content = @Content(mediaType = MediaType.IMAGE_PNG_VALUE, schema = @Schema(type = "string", format = "binary")))
    @GetMapping(JOBS + "/{id}/images/{n}")
    public ResponseEntity<byte[]> image(@PathVariable String id, @Parameter(description = "The image's index, from 0",
            schema = @Schema(type = "integer", minimum = "0")) @PathVariable("n") String index) {
        Job job = find(id);
        JobStatus status = job.status();
        if (status != JobStatus.SUCCEEDED) {
            throw ResourceProblemException.conflict(status.terminal()
                    ? "Job " + id + (status == JobStatus.FAILED ? " failed" : " was cancelled") + "; it has no images"
                    : "Job " + id + " is " + status.apiName() + "; its images are ready once it has succeeded");
        }
        GenerationResult result = job.result();
        int n = parseIndex(index, result.images().size());
        if (n < 0) {
            throw ResourceProblemException.notFound("Job " + id + " has no image " + index + "; its images are 0 to "
                    + (result.images().size() - 1));
        }
        GeneratedImage image = result.images().get(n);
        return ResponseEntity.ok()
                .contentType(MediaType.IMAGE_PNG)
                .header(GenerateController.SEED_HEADER, Long.toString(image.seed()))
                .body(image.png());
    }

    private static int parseIndex(String index, int count) {
        try {
            int n = Integer.parseInt(index);
            return n >= 0 && n < count ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Another client's job is answered as unknown: whether it exists is none of the caller's business. */
    private Job find(String id) {
        String caller = ClientIdentity.of(request);
        return service.find(id).filter(job -> ClientIdentity.mayAccess(caller, job.client()))
                .orElseThrow(() -> ResourceProblemException.unknownJob(id, retention));
    }

    /**
     * The job now. A queued job's place is 1-based; one that left the queue meanwhile shows its new status,
     * or, while the worker is still taking it in (encoding its prompt), place 1 until it starts.
     */
    private JobView view(Job job) {
        JobStatus status = job.status();
        int position = 0;
        if (status == JobStatus.QUEUED) {
            position = service.queuePosition(job);
            if (position == 0) {
                status = job.status();
                position = 1;
            }
        }
        return JobView.of(job, status, position);
    }

    private static String finishedAs(JobStatus status) {
        return status == JobStatus.CANCELLED ? "been cancelled" : status.apiName();
    }
}
