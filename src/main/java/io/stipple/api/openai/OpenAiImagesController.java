package io.stipple.api.openai;

import io.stipple.access.ClientIdentity;
import io.stipple.api.GenerateRequestBody;
import io.stipple.api.InitImages;
import io.stipple.api.InvalidRequestException;
import io.stipple.api.InvalidRequestException.FieldViolation;
import io.stipple.api.RequestValidator;
import io.stipple.api.WaitingAnswers;
import io.stipple.engine.GenerationService;
import io.stipple.engine.Job;
import io.stipple.model.ModelCapabilities;
import io.stipple.model.ServedModel;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

/**
 * OpenAI's Images API ({@code POST /v1/images/generations} and {@code /v1/images/edits}) over Stipple's own
 * requests: an adapter that translates OpenAI's parameters into a {@link GenerateRequestBody}, lets the same
 * validator and engine run it, and answers in OpenAI's shape ({@link OpenAiErrors} does the errors). So a
 * client of OpenAI's needs only its base URL pointed here.
 */
@RestController
@Tag(name = "OpenAI Images API")
public class OpenAiImagesController {
    static final String PATH = "/v1/images/";
    private static final Pattern SIZE = Pattern.compile("(\\d{1,5})x(\\d{1,5})");

    private final RequestValidator validator;
    private final GenerationService service;
    private final WaitingAnswers answers;

    public OpenAiImagesController(RequestValidator validator, GenerationService service, WaitingAnswers answers) {
        this.validator = validator;
        this.service = service;
        this.answers = answers;
    }

    @Operation(summary = "Create images (OpenAI Images API)", description = "OpenAI's parameters and answer; "
            + "docs/api.md says how each maps onto a Stipple request.")
    @PostMapping(path = PATH + "generations", consumes = MediaType.APPLICATION_JSON_VALUE)
    public DeferredResult<ImagesResponse> generations(@RequestBody ImageGenerationBody body,
            HttpServletRequest servletRequest) {
        Output output = Output.of(body.responseFormat(), body.outputFormat());
        GenerationRequest request = validator.validate(stippleBody(body.prompt(), body.model(), body.n(), body.size(),
                body.quality(), null));
        return answer(request, output, servletRequest);
    }

    /**
     * Edits: with a mask, inpainting where the mask is transparent (OpenAI's convention); without one, where
     * the image itself is transparent; an opaque image without a mask is changed all over (image-to-image at
     * the default strength).
     */
    @Operation(summary = "Edit an image (OpenAI Images API)", description = "Multipart, as OpenAI takes it: "
            + "`image`, optional `mask` (transparent where to edit), `prompt`, `n`, `size`, `response_format`.")
    @PostMapping(path = PATH + "edits", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    public DeferredResult<ImagesResponse> edits(
            @RequestParam(name = "image", required = false) MultipartFile image,
            @RequestParam(name = "image[]", required = false) MultipartFile imageArray,
            @RequestParam(name = "mask", required = false) MultipartFile mask,
            @RequestParam(name = "prompt", required = false) String prompt,
            @RequestParam(name = "model", required = false) String model,
            @RequestParam(name = "n", required = false) String n,
            @RequestParam(name = "size", required = false) String size,
            @RequestParam(name = "quality", required = false) String quality,
            @RequestParam(name = "response_format", required = false) String responseFormat,
            @RequestParam(name = "output_format", required = false) String outputFormat,
            HttpServletRequest servletRequest) {
        Output output = Output.of(responseFormat, outputFormat);
        MultipartFile file = image != null ? image : imageArray;
        if (file == null) {
            throw invalid("image", "image is required: the PNG or JPEG to edit, as a file part");
        }
        BufferedImage source = read("image", file);
        BufferedImage editMask = mask != null ? MaskConvention.transparentToWhite(read("mask", mask))
                : MaskConvention.hasTransparency(source) ? MaskConvention.transparentToWhite(source) : null;
        Double strength = editMask != null ? 1.0 : null;
        GenerationRequest request = validator.validate(stippleBody(prompt, model, parseCount(n), size, quality, strength),
                source, editMask);
        return answer(request, output, servletRequest);
    }

    /** {@code model} names a served model (OpenAI's own names are not served); absent, the default one. */
    private GenerateRequestBody stippleBody(String prompt, String model, Integer n, String size, String quality,
            Double strength) {
        ServedModel served = validator.model(model);
        Integer width = null;
        Integer height = null;
        if (size != null && !size.equals("auto")) {
            Matcher matcher = SIZE.matcher(size);
            if (!matcher.matches()) {
                throw invalid("size", "size must be \"auto\" or WIDTHxHEIGHT such as \"512x512\", got \"" + size + "\"");
            }
            width = Integer.parseInt(matcher.group(1));
            height = Integer.parseInt(matcher.group(2));
        }
        return GenerateRequestBody.builder(prompt).size(width, height).steps(steps(quality, served.capabilities()))
                .numImages(n).strength(strength).model(model).build();
    }

    /** OpenAI's quality as denoising steps: low half the model's default, high (or hd) twice it, else the default. */
    private static Integer steps(String quality, ModelCapabilities model) {
        if (quality == null) {
            return null;
        }
        int defaultSteps = model.defaults().steps();
        return switch (quality) {
            case "low" -> Math.max(1, defaultSteps / 2);
            case "high", "hd" -> Math.min(defaultSteps * 2, model.maxSteps(model.defaults().sampler()));
            case "medium", "standard", "auto" -> defaultSteps;
            default -> throw invalid("quality", "quality must be one of low, medium, high, standard, hd or auto, got \""
                    + quality + "\"");
        };
    }

    private static Integer parseCount(String n) {
        if (n == null) {
            return null;
        }
        try {
            return Integer.valueOf(n.strip());
        } catch (NumberFormatException e) {
            throw invalid("n", "n must be a whole number, got \"" + n + "\"");
        }
    }

    /** Through the same checks as every init image, the size read from the header before anything is decoded. */
    private static BufferedImage read(String field, MultipartFile file) {
        List<FieldViolation> violations = new ArrayList<>();
        BufferedImage image;
        try {
            image = InitImages.decode(field, file.getBytes(), violations);
        } catch (IOException e) {
            throw invalid(field, field + " could not be read: " + e.getMessage());
        }
        if (image == null) {
            throw new InvalidRequestException(violations);
        }
        return image;
    }

    private DeferredResult<ImagesResponse> answer(GenerationRequest request, Output output,
            HttpServletRequest servletRequest) {
        String client = ClientIdentity.of(servletRequest);
        Job job = output.urls() ? service.submitJob(request, client) : service.submit(request, client);
        String imagesUrl = ServletUriComponentsBuilder.fromContextPath(servletRequest).path("/v1/jobs/").build()
                .toUriString() + job.id() + "/images/";
        return answers.of(servletRequest, job, result -> images(result, output, imagesUrl));
    }

    private static ImagesResponse images(GenerationResult result, Output output, String imagesUrl) {
        List<ImagesResponse.Image> data = new ArrayList<>();
        List<GeneratedImage> images = result.images();
        for (int i = 0; i < images.size(); i++) {
            data.add(output.urls() ? new ImagesResponse.Image(null, imagesUrl + i)
                    : new ImagesResponse.Image(Base64.getEncoder().encodeToString(output.encode(images.get(i).png())), null));
        }
        return new ImagesResponse(Instant.now().getEpochSecond(), data);
    }

    static InvalidRequestException invalid(String field, String message) {
        return new InvalidRequestException(List.of(new FieldViolation(field, message)));
    }

    /** How images go back: as URLs into the job store (PNG) or inline as base64 PNG or JPEG. */
    record Output(boolean urls, String format) {
        static Output of(String responseFormat, String outputFormat) {
            boolean urls = responseFormat == null || responseFormat.equals("url");
            if (!urls && !responseFormat.equals("b64_json")) {
                throw invalid("response_format", "response_format must be url or b64_json, got \"" + responseFormat + "\"");
            }
            String format = outputFormat == null ? "png" : outputFormat.toLowerCase(Locale.ROOT);
            if (!format.equals("png") && !format.equals("jpeg")) {
                throw invalid("output_format", "output_format must be png or jpeg (webp is not available), got \""
                        + outputFormat + "\"");
            }
            if (urls && format.equals("jpeg")) {
                throw invalid("output_format", "output_format jpeg needs response_format b64_json: image URLs serve PNG");
            }
            return new Output(urls, format);
        }

        byte[] encode(byte[] png) {
            if (format.equals("png")) {
                return png;
            }
            try {
                BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
                ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
                ImageIO.write(image, "jpeg", jpeg);
                return jpeg.toByteArray();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
