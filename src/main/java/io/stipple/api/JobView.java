package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stipple.engine.Job;
import io.stipple.engine.JobFailure;
import io.stipple.engine.JobStatus;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationResult;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An async job as {@code GET /v1/jobs/{id}} shows it. Fields that do not apply to the job's status are
 * left out: {@code queue_position} only while queued, {@code progress} once it has left the queue,
 * {@code images} and {@code timings_ms} once succeeded, {@code error} once failed.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobView(
        @JsonProperty("id") String id,
        @JsonProperty("status") JobStatus status,
        @JsonProperty("created_at") @Schema(format = "date-time") String createdAt,
        @JsonProperty("finished_at") @Schema(format = "date-time") String finishedAt,
        @JsonProperty("queue_position") Integer queuePosition,
        @JsonProperty("progress") Progress progress,
        @JsonProperty("parameters") GenerateResponse.Parameters parameters,
        @JsonProperty("images") List<Image> images,
        @JsonProperty("timings_ms") GenerateResponse.Timings timings,
        @JsonProperty("error") Error error) {

    /**
     * The job in {@code status}, read once by the caller so that the view is consistent: every field a
     * status shows is set before the job enters it. {@code queuePosition} is only used while queued.
     */
    static JobView of(Job job, JobStatus status, int queuePosition) {
        GenerationResult result = status == JobStatus.SUCCEEDED ? job.result() : null;
        JobFailure failure = status == JobStatus.FAILED ? job.failure() : null;
        Instant finished = status.terminal() ? job.finishedAt() : null;
        return new JobView(
                job.id(),
                status,
                job.createdAt().toString(),
                finished == null ? null : finished.toString(),
                status == JobStatus.QUEUED ? queuePosition : null,
                status == JobStatus.QUEUED ? null : new Progress(job.step(), job.steps()),
                GenerateResponse.Parameters.of(job.request()),
                result == null ? null : images(job.id(), result),
                result == null ? null : GenerateResponse.Timings.of(result.timings()),
                failure == null ? null : Error.of(failure));
    }

    static String imagePath(String id, int index) {
        return JobsController.JOBS + "/" + id + "/images/" + index;
    }

    private static List<Image> images(String id, GenerationResult result) {
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < result.images().size(); i++) {
            GeneratedImage image = result.images().get(i);
            images.add(new Image(i, image.seed(), image.width(), image.height(), imagePath(id, i)));
        }
        return images;
    }

    /** Denoising steps done out of the trajectory's length. */
    @Schema(name = "JobProgress")
    public record Progress(@JsonProperty("step") int step, @JsonProperty("steps") int steps) {
    }

    /** A finished image; its PNG is at {@code url}. */
    @Schema(name = "JobImage")
    public record Image(
            @JsonProperty("index") int index,
            @JsonProperty("seed") long seed,
            @JsonProperty("width") int width,
            @JsonProperty("height") int height,
            @JsonProperty("url") String url) {
    }

    /** Why the job failed, as the problem {@code POST /generate} would have answered with. */
    @Schema(name = "JobError")
    public record Error(
            @JsonProperty("status") int status,
            @JsonProperty("title") String title,
            @JsonProperty("detail") String detail) {

        static Error of(JobFailure failure) {
            FailureProblem problem = FailureProblem.of(failure);
            return new Error(problem.status().value(), problem.title(), problem.detail());
        }
    }

    /** The answer of {@code POST /v1/jobs}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(name = "JobAccepted")
    public record Accepted(
            @JsonProperty("id") String id,
            @JsonProperty("status") JobStatus status,
            @JsonProperty("queue_position") Integer queuePosition) {
    }
}
