package io.stipple.api;

import io.stipple.access.ClientIdentity;
import io.stipple.engine.GenerationService;
import io.stipple.engine.Job;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.multipart.MultipartHttpServletRequest;

/** {@code POST /generate}: a prompt in, PNGs out, synchronously. */
@RestController
@Tag(name = "Generation")
public class GenerateController {
    public static final String SEED_HEADER = "X-Stipple-Seed";

    private final RequestValidator validator;
    private final GenerationService service;
    private final WaitingAnswers answers;

    public GenerateController(RequestValidator validator, GenerationService service, WaitingAnswers answers) {
        this.validator = validator;
        this.service = service;
        this.answers = answers;
    }

    /**
     * Waits for the job without holding a servlet thread. A client that hangs up cancels its job, so
     * its rows leave the batch at the next step instead of being computed for nobody.
     */
    @Operation(summary = "Generate images and wait for them", description = "Answers once the images are ready: "
            + "JSON with every image, or with `Accept: image/png` the PNG itself (`num_images` 1 only). "
            + "The same seed gives the same image.")
    @ApiResponse(responseCode = "200", description = "The images", headers = @Header(name = SEED_HEADER,
            description = "The image's seed (`image/png` answers only)", schema = @Schema(type = "integer", format = "int64")),
            content = {
                    @Content(mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = GenerateResponse.class)),
                    @Content(mediaType = MediaType.IMAGE_PNG_VALUE, schema = @Schema(type = "string", format = "binary"))})
    @PostMapping(path = "/generate", consumes = MediaType.APPLICATION_JSON_VALUE)
    public DeferredResult<ResponseEntity<?>> generate(@RequestBody GenerateRequestBody body,
            @Parameter(hidden = true) @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept,
            HttpServletRequest servletRequest) {
        return answer(body, accept, servletRequest);
    }

    /**
     * The same request as a form, for {@code curl -F prompt=... -F init_image=@photo.png}. Left out of the API
     * description, which would merge it into the JSON operation of the same path; docs/api.md describes it.
     */
    @Operation(hidden = true)
    @PostMapping(path = "/generate", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    public DeferredResult<ResponseEntity<?>> generateForm(MultipartHttpServletRequest form,
            @Parameter(hidden = true) @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        return answer(FormFields.body(form), accept, form);
    }

    private DeferredResult<ResponseEntity<?>> answer(GenerateRequestBody body, String accept,
            HttpServletRequest servletRequest) {
        ResponseFormat format = ResponseFormat.negotiate(accept);
        GenerationRequest request = validator.validate(body);
        if (format == ResponseFormat.PNG && request.imageCount() != 1) {
            throw new ResponseFormat.NotAcceptableException("Accept: image/png returns a single image, but num_images is "
                    + request.imageCount() + "; ask for application/json to get several");
        }
        Job job = service.submit(request, ClientIdentity.of(servletRequest));
        return answers.of(servletRequest, job, result -> format == ResponseFormat.JSON ? json(result) : png(result));
    }

    private static ResponseEntity<?> json(GenerationResult result) {
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(GenerateResponse.of(result));
    }

    private static ResponseEntity<?> png(GenerationResult result) {
        GeneratedImage image = result.images().get(0);
        return ResponseEntity.ok()
                .contentType(MediaType.IMAGE_PNG)
                .header(SEED_HEADER, Long.toString(image.seed()))
                .body(image.png());
    }
}
