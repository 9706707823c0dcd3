package io.stipple.api.a1111;

import io.stipple.access.AccessMode;
import io.stipple.access.ClientIdentity;
import io.stipple.api.GenerateRequestBody;
import io.stipple.api.InitImages;
import io.stipple.api.InvalidRequestException;
import io.stipple.api.InvalidRequestException.FieldViolation;
import io.stipple.api.RequestValidator;
import io.stipple.api.WaitingAnswers;
import io.stipple.engine.GenerationService;
import io.stipple.engine.Job;
import io.stipple.engine.JobStatus;
import io.stipple.model.ModelCapabilities;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.async.DeferredResult;
import tools.jackson.databind.json.JsonMapper;

/**
 * AUTOMATIC1111's web UI API ({@code /sdapi/v1/*}), the most scripted Stable Diffusion API, as an adapter:
 * A1111's fields are translated into a {@link GenerateRequestBody} that the same validator and engine run, and
 * the answer into A1111's shape ({@link A1111Errors} does the errors).
 *
 * <p>A1111 serves one user at a time, so its progress and interrupt are global. Here they mean one job: the
 * caller's most recent unfinished one when access control tells callers apart, else the oldest running one.
 */
@RestController
@Tag(name = "AUTOMATIC1111 API")
public class A1111Controller {
    static final String PATH = "/sdapi/v1/";
    /** A1111's default for img2img. */
    private static final double DEFAULT_DENOISING_STRENGTH = 0.75;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final RequestValidator validator;
    private final GenerationService service;
    private final WaitingAnswers answers;
    private final AccessMode access;

    public A1111Controller(RequestValidator validator, GenerationService service, WaitingAnswers answers,
            AccessMode access) {
        this.validator = validator;
        this.service = service;
        this.answers = answers;
        this.access = access;
    }

    @Operation(summary = "Text to image (AUTOMATIC1111)")
    @PostMapping(path = PATH + "txt2img", consumes = MediaType.APPLICATION_JSON_VALUE)
    public DeferredResult<Map<String, Object>> txt2img(@RequestBody GenerationBody body, HttpServletRequest http) {
        return generate(body, validator.validate(stippleBody(body, null)), http);
    }

    @Operation(summary = "Image to image and inpainting (AUTOMATIC1111)")
    @PostMapping(path = PATH + "img2img", consumes = MediaType.APPLICATION_JSON_VALUE)
    public DeferredResult<Map<String, Object>> img2img(@RequestBody GenerationBody body, HttpServletRequest http) {
        if (body.initImages() == null || body.initImages().isEmpty()) {
            throw new InvalidRequestException("init_images", "init_images needs one image to start from");
        }
        List<FieldViolation> violations = new ArrayList<>();
        BufferedImage init = InitImages.decode("init_images", body.initImages().get(0), violations);
        BufferedImage mask = body.mask() == null ? null : InitImages.decode("mask", body.mask(), violations);
        if (!violations.isEmpty()) {
            throw new InvalidRequestException(violations);
        }
        if (mask != null && Integer.valueOf(1).equals(body.inpaintingMaskInvert())) {
            mask = inverted(mask);
        }
        double strength = body.denoisingStrength() != null ? body.denoisingStrength() : DEFAULT_DENOISING_STRENGTH;
        return generate(body, validator.validate(stippleBody(body, strength), init, mask), http);
    }

    private GenerateRequestBody stippleBody(GenerationBody body, Double strength) {
        String checkpoint = checkpoint(body.overrideSettings());
        ModelCapabilities model = validator.model(checkpoint).capabilities();
        String sampler = A1111Samplers.stipple(body.sampler(), body.scheduler(), model.defaults().sampler());
        Long seed = body.seed() == null || body.seed() == -1 ? null : body.seed();
        Integer images = body.batchSize() == null && body.nIter() == null ? null
                : (body.batchSize() == null ? 1 : body.batchSize()) * (body.nIter() == null ? 1 : body.nIter());
        return GenerateRequestBody.builder(body.prompt()).negativePrompt(body.negativePrompt())
                .size(body.width(), body.height()).steps(body.steps()).guidanceScale(body.cfgScale())
                .sampler(sampler, body.eta()).seed(seed).numImages(images).strength(strength).model(checkpoint)
                .clipSkip(model.limits().maxClipSkip() > 0 ? clipSkip(body.overrideSettings()) : null).build();
    }

    /**
     * A1111's {@code CLIP_stop_at_last_layers} N counts the last layer as 1, so N − 1 layers are skipped. Clients
     * send it with every request, as a setting of the UI rather than of the image, so a model exported without
     * clip skip ignores it instead of refusing every request.
     */
    private static Integer clipSkip(Map<String, Object> settings) {
        Object layers = settings == null ? null : settings.get("CLIP_stop_at_last_layers");
        if (layers == null) {
            return null;
        }
        if (!(layers instanceof Number number) || number.doubleValue() != Math.rint(number.doubleValue())
                || number.intValue() < 1) {
            throw new InvalidRequestException("CLIP_stop_at_last_layers", "CLIP_stop_at_last_layers must be a whole "
                    + "number of at least 1 (1: the last layer), got " + layers);
        }
        return number.intValue() == 1 ? null : number.intValue() - 1;
    }

    /** A checkpoint asked for by name selects that served model, as A1111 would load it; the validator refuses others. */
    static String checkpoint(Map<String, Object> settings) {
        Object checkpoint = settings == null ? null : settings.get("sd_model_checkpoint");
        return checkpoint == null ? null : checkpoint.toString();
    }

    private DeferredResult<Map<String, Object>> generate(GenerationBody body, GenerationRequest request,
            HttpServletRequest http) {
        Job job = service.submit(request, ClientIdentity.of(http));
        return answers.of(http, job, result -> answer(body, result, job.createdAt()));
    }

    private Map<String, Object> answer(GenerationBody body, GenerationResult result, Instant started) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("images", result.images().stream()
                .map(image -> Base64.getEncoder().encodeToString(image.png())).toList());
        answer.put("parameters", body);
        answer.put("info", JSON.writeValueAsString(A1111Info.of(result, started)));
        return answer;
    }

    private static BufferedImage inverted(BufferedImage mask) {
        BufferedImage inverted = new BufferedImage(mask.getWidth(), mask.getHeight(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < mask.getHeight(); y++) {
            for (int x = 0; x < mask.getWidth(); x++) {
                inverted.setRGB(x, y, ~mask.getRGB(x, y) & 0xFFFFFF);
            }
        }
        return inverted;
    }

    @Operation(summary = "Progress of the job in hand (AUTOMATIC1111)")
    @GetMapping(PATH + "progress")
    public Map<String, Object> progress(
            @RequestParam(name = "skip_current_image", defaultValue = "false") boolean skipCurrentImage,
            HttpServletRequest http) {
        Optional<Job> current = current(http);
        if (!skipCurrentImage) {
            // the job renders previews from now on, for current_image
            current.ifPresent(Job::askForPreviews);
        }
        int step = current.map(Job::step).orElse(0);
        int steps = current.filter(job -> job.status() == JobStatus.RUNNING).map(Job::steps).orElse(0);
        double progress = steps == 0 ? 0.0 : (double) step / steps;
        double elapsed = current.map(job -> Duration.between(job.createdAt(), Instant.now()).toMillis() / 1000.0)
                .orElse(0.0);
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("skipped", false);
        state.put("interrupted", false);
        state.put("stopping_generation", false);
        state.put("job", current.map(Job::id).orElse(""));
        state.put("job_count", service.unfinished().size());
        state.put("job_timestamp", current.map(job -> A1111Info.TIMESTAMP.format(job.createdAt())).orElse("0"));
        state.put("job_no", 0);
        state.put("sampling_step", step);
        state.put("sampling_steps", steps);
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("progress", progress);
        answer.put("eta_relative", progress > 0 ? elapsed / progress - elapsed : 0.0);
        answer.put("state", state);
        answer.put("current_image", skipCurrentImage ? null : current.map(Job::latestPreview)
                .map(png -> Base64.getEncoder().encodeToString(png)).orElse(null));
        answer.put("textinfo", null);
        answer.put("current_task", current.map(Job::id).orElse(null));
        return answer;
    }

    @Operation(summary = "Cancel the job in hand (AUTOMATIC1111)")
    @PostMapping(PATH + "interrupt")
    public Map<String, Object> interrupt(HttpServletRequest http) {
        current(http).ifPresent(service::cancel);
        return Map.of();
    }

    /** The caller's most recent unfinished job when callers are told apart, else the oldest running one. */
    private Optional<Job> current(HttpServletRequest http) {
        List<Job> unfinished = service.unfinished();
        if (access.required()) {
            String client = ClientIdentity.of(http);
            return unfinished.stream().filter(job -> job.client().equals(client)).reduce((older, newer) -> newer);
        }
        return unfinished.stream().filter(job -> job.status() == JobStatus.RUNNING).findFirst()
                .or(() -> unfinished.stream().findFirst());
    }
}
