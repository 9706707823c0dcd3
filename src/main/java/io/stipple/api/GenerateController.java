package io.stipple.api;

import io.stipple.engine.GenerationService;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /generate}: a prompt in, PNGs out, synchronously. */
@RestController
public class GenerateController {
    public static final String SEED_HEADER = "X-Stipple-Seed";

    private final RequestValidator validator;
    private final GenerationService service;

    public GenerateController(RequestValidator validator, GenerationService service) {
        this.validator = validator;
        this.service = service;
    }

    @PostMapping(path = "/generate", consumes = MediaType.APPLICATION_JSON_VALUE)
    public CompletableFuture<ResponseEntity<?>> generate(@RequestBody GenerateRequestBody body,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        ResponseFormat format = ResponseFormat.negotiate(accept);
        GenerationRequest request = validator.validate(body);
        if (format == ResponseFormat.PNG && request.imageCount() != 1) {
            throw new ResponseFormat.NotAcceptableException("Accept: image/png returns a single image, but num_images is "
                    + request.imageCount() + "; ask for application/json to get several");
        }
        return service.submit(request).thenApply(result -> {
            if (format == ResponseFormat.JSON) {
                return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(GenerateResponse.of(result));
            }
            GeneratedImage image = result.images().get(0);
            return ResponseEntity.ok()
                    .contentType(MediaType.IMAGE_PNG)
                    .header(SEED_HEADER, Long.toString(image.seed()))
                    .body(image.png());
        });
    }
}
