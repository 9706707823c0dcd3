package io.stipple.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.stipple.pipeline.SizeConditioning;
import io.stipple.pipeline.StageTimings;
import io.swagger.v3.oas.annotations.media.Schema;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The JSON answer of {@code POST /generate}: the images, the parameters that ran, and where the time went. */
public record GenerateResponse(
        @JsonProperty("images") List<Image> images,
        @JsonProperty("parameters") Parameters parameters,
        @JsonProperty("timings_ms") Timings timings) {

    static GenerateResponse of(GenerationResult result) {
        List<Image> images = new ArrayList<>();
        for (int i = 0; i < result.images().size(); i++) {
            GeneratedImage image = result.images().get(i);
            images.add(new Image(i, image.seed(), image.width(), image.height(),
                    Base64.getEncoder().encodeToString(image.png())));
        }
        return new GenerateResponse(images, Parameters.of(result.request()), Timings.of(result.timings()));
    }

    @Schema(name = "GeneratedImage")
    public record Image(
            @JsonProperty("index") int index,
            @JsonProperty("seed") long seed,
            @JsonProperty("width") int width,
            @JsonProperty("height") int height,
            @JsonProperty("png_base64") String pngBase64) {
    }

    public record Parameters(
            @JsonProperty("model") String model,
            @JsonProperty("prompt") String prompt,
            @JsonProperty("negative_prompt") String negativePrompt,
            @JsonProperty("width") int width,
            @JsonProperty("height") int height,
            @JsonProperty("steps") int steps,
            @JsonProperty("guidance_scale") double guidanceScale,
            @JsonProperty("sampler") String sampler,
            @JsonProperty("eta") double eta,
            @JsonProperty("seed") long seed,
            @JsonProperty("num_images") int numImages,
            @JsonProperty("clip_skip") int clipSkip,
            @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("original_size") List<Integer> originalSize,
            @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("crops_coords_top_left") List<Integer> cropsCoordsTopLeft,
            @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("target_size") List<Integer> targetSize) {

        /** What ran; SDXL's size conditioning only for a model that takes it. */
        static Parameters of(GenerationRequest request) {
            SizeConditioning sizes = request.sizes();
            return new Parameters(request.model(), request.prompt(), request.negativePrompt(), request.width(), request.height(),
                    request.steps(), request.guidanceScale(), request.sampler(), request.eta(),
                    request.seeds().get(0), request.imageCount(), request.clipSkip(),
                    sizes == null ? null : List.of(sizes.originalHeight(), sizes.originalWidth()),
                    sizes == null ? null : List.of(sizes.cropTop(), sizes.cropLeft()),
                    sizes == null ? null : List.of(sizes.targetHeight(), sizes.targetWidth()));
        }
    }

    public record Timings(
            @JsonProperty("queue") double queue,
            @JsonProperty("text_encoding") double textEncoding,
            @JsonProperty("denoising") double denoising,
            @JsonProperty("decoding") double decoding,
            @JsonProperty("png_encoding") double pngEncoding,
            @JsonProperty("total") double total) {

        static Timings of(StageTimings timings) {
            return new Timings(round(timings.queue()), round(timings.textEncoding()), round(timings.denoising()),
                    round(timings.decoding()), round(timings.pngEncoding()), round(timings.total()));
        }

        private static double round(double millis) {
            return Math.round(millis * 100) / 100.0;
        }
    }
}
