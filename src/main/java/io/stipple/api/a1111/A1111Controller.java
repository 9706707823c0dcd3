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
import io.stipple.model.ServedModels;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private final RequestValidator validator;
    private final GenerationService service;
    private final WaitingAnswers answers;
    private final AccessMode access;
    private final ServedModels models;
    /** The default model's: what A1111 clients see as the loaded checkpoint. */
    private final PipelineSpec spec;

    public A1111Controller(RequestValidator validator, GenerationService service, WaitingAnswers answers,
            AccessMode access, ServedModels models) {
        this.validator = validator;
        this.service = service;
        this.answers = answers;
        this.access = access;
        this.models = models;
        this.spec = models.defaultModel().spec();
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
        String sampler = A1111Samplers.stipple(body.sampler(), body.scheduler(),
                validator.model(checkpoint).spec().samplerOrDefault());
        Long seed = body.seed() == null || body.seed() == -1 ? null : body.seed();
        Integer images = body.batchSize() == null && body.nIter() == null ? null
                : (body.batchSize() == null ? 1 : body.batchSize()) * (body.nIter() == null ? 1 : body.nIter());
        return new GenerateRequestBody(body.prompt(), body.negativePrompt(), body.width(), body.height(), body.steps(),
                body.cfgScale(), sampler, body.eta(), seed, images, null, strength, null, checkpoint);
    }

    /** A checkpoint asked for by name selects that served model, as A1111 would load it; the validator refuses others. */
    private static String checkpoint(Map<String, Object> settings) {
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
        answer.put("info", JSON.writeValueAsString(info(result, started)));
        return answer;
    }

    /** A1111's generation info: what ran, per image its seed and its infotext, the line A1111 writes into PNGs. */
    private Map<String, Object> info(GenerationResult result, Instant started) {
        GenerationRequest request = result.request();
        String[] sampler = A1111Samplers.a1111(request.sampler());
        List<Long> seeds = result.images().stream().map(GeneratedImage::seed).toList();
        List<String> infotexts = seeds.stream().map(seed -> infotext(request, sampler, seed)).toList();
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("prompt", request.prompt());
        info.put("all_prompts", seeds.stream().map(seed -> request.prompt()).toList());
        info.put("negative_prompt", request.negativePrompt());
        info.put("all_negative_prompts", seeds.stream().map(seed -> request.negativePrompt()).toList());
        info.put("seed", seeds.get(0));
        info.put("all_seeds", seeds);
        info.put("subseed", -1);
        info.put("all_subseeds", seeds.stream().map(seed -> -1).toList());
        info.put("subseed_strength", 0);
        info.put("width", request.width());
        info.put("height", request.height());
        info.put("sampler_name", sampler[0]);
        info.put("scheduler", sampler[1]);
        info.put("cfg_scale", request.guidanceScale());
        info.put("steps", request.steps());
        info.put("batch_size", seeds.size());
        info.put("restore_faces", false);
        info.put("sd_model_name", request.model());
        info.put("sd_model_hash", null);
        info.put("denoising_strength", request.init() == null ? null : request.init().strength());
        info.put("extra_generation_params", Map.of());
        info.put("index_of_first_image", 0);
        info.put("infotexts", infotexts);
        info.put("styles", List.of());
        info.put("job_timestamp", TIMESTAMP.format(started));
        info.put("clip_skip", 1);
        info.put("is_using_inpainting_conditioning", false);
        info.put("version", "stipple");
        return info;
    }

    private String infotext(GenerationRequest request, String[] sampler, long seed) {
        StringBuilder text = new StringBuilder(request.prompt());
        if (!request.negativePrompt().isEmpty()) {
            text.append("\nNegative prompt: ").append(request.negativePrompt());
        }
        text.append("\nSteps: ").append(request.steps()).append(", Sampler: ").append(sampler[0])
                .append(", Schedule type: ").append(sampler[1]).append(", CFG scale: ").append(request.guidanceScale())
                .append(", Seed: ").append(seed).append(", Size: ").append(request.width()).append('x')
                .append(request.height()).append(", Model: ").append(request.model());
        if (request.init() != null) {
            text.append(", Denoising strength: ").append(request.init().strength());
        }
        return text.append(", Version: stipple").toString();
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
        state.put("job_timestamp", current.map(job -> TIMESTAMP.format(job.createdAt())).orElse("0"));
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

    @Operation(summary = "Samplers, with A1111's names (AUTOMATIC1111)")
    @GetMapping(PATH + "samplers")
    public List<Map<String, Object>> samplers() {
        return A1111Samplers.ENTRIES.stream()
                .map(entry -> Map.<String, Object>of("name", entry.name(), "aliases", entry.aliases(), "options", Map.of()))
                .toList();
    }

    @Operation(summary = "Schedule types (AUTOMATIC1111)")
    @GetMapping(PATH + "schedulers")
    public List<Map<String, Object>> schedulers() {
        return A1111Samplers.SCHEDULERS;
    }

    /** No upscalers: hires fix is not supported. "None" comes first, where SillyTavern looks for it. */
    @Operation(summary = "Upscalers: none (AUTOMATIC1111)")
    @GetMapping(PATH + "upscalers")
    public List<Map<String, Object>> upscalers() {
        Map<String, Object> none = new LinkedHashMap<>();
        none.put("name", "None");
        none.put("model_name", null);
        none.put("model_path", null);
        none.put("model_url", null);
        none.put("scale", 4);
        return List.of(none);
    }

    @Operation(summary = "Latent upscale modes: none (AUTOMATIC1111)")
    @GetMapping(PATH + "latent-upscale-modes")
    public List<Map<String, Object>> latentUpscaleModes() {
        return List.of();
    }

    /** The pipeline's own VAE is the only one; A1111 lists only extra VAEs here. */
    @Operation(summary = "Extra VAEs: none (AUTOMATIC1111)")
    @GetMapping(PATH + "sd-vae")
    public List<Map<String, Object>> vaes() {
        return List.of();
    }

    @Operation(summary = "The served models, as A1111's checkpoint list (AUTOMATIC1111)")
    @GetMapping(PATH + "sd-models")
    public List<Map<String, Object>> models() {
        return models.all().stream().map(served -> {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("title", served.name());
            model.put("model_name", served.name());
            model.put("hash", null);
            model.put("sha256", null);
            model.put("filename", served.pipeline().directory().root().toString());
            model.put("config", null);
            return model;
        }).toList();
    }

    @Operation(summary = "Settings: the checkpoint served (AUTOMATIC1111)")
    @GetMapping(PATH + "options")
    public Map<String, Object> options() {
        Map<String, Object> options = new LinkedHashMap<>();
        options.put("sd_model_checkpoint", spec.name());
        options.put("sd_checkpoint_hash", null);
        options.put("samples_format", "png");
        options.put("CLIP_stop_at_last_layers", 1);
        options.put("sd_vae", "Automatic");
        return options;
    }

    /**
     * Only the checkpoint is a setting here, and only a served one can be chosen; nothing is kept, since a request
     * names its model in its own override_settings. Other settings are ignored.
     */
    @Operation(summary = "Change settings (AUTOMATIC1111)")
    @PostMapping(path = PATH + "options", consumes = MediaType.APPLICATION_JSON_VALUE)
    public Map<String, Object> setOptions(@RequestBody Map<String, Object> settings) {
        String checkpoint = checkpoint(settings);
        if (checkpoint != null && models.find(checkpoint).isEmpty()) {
            throw new InvalidRequestException("sd_model_checkpoint", "unknown checkpoint \"" + checkpoint
                    + "\"; served: " + String.join(", ", models.names()));
        }
        return Map.of();
    }
}
