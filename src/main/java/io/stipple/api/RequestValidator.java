package io.stipple.api;

import io.stipple.api.InvalidRequestException.FieldViolation;
import io.stipple.model.ModelCapabilities;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.ServedModel;
import io.stipple.model.ServedModels;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.Guidance;
import io.stipple.pipeline.InitImage;
import io.stipple.pipeline.SizeConditioning;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.stereotype.Component;

/**
 * Checks a request body against the API's rules and the model's {@link ModelCapabilities}, and resolves every
 * default: what comes out is exactly what will run. All violations are reported at once.
 */
@Component
public class RequestValidator {
    /** Drawn seeds stay below 2^53 so that JavaScript clients can hold them exactly. */
    static final long MAX_DRAWN_SEED = 1L << 53;

    private final ServedModels models;

    public RequestValidator(ServedModels models) {
        this.models = models;
    }

    /** The model a request names, or the default one; an unknown name is the request's error. */
    public ServedModel model(String name) {
        if (name == null) {
            return models.defaultModel();
        }
        return models.find(name).orElseThrow(() -> new InvalidRequestException("model", "unknown model \"" + name
                + "\"; served: " + String.join(", ", models.names())));
    }

    public GenerationRequest validate(GenerateRequestBody body) {
        ServedModel model = model(body.model());
        List<FieldViolation> violations = new ArrayList<>();
        boolean decode = body.initImage() != null && model.capabilities().imageToImage();
        BufferedImage initImage = decode ? InitImages.decode("init_image", body.initImage(), violations) : null;
        BufferedImage mask = decode && body.maskImage() != null
                ? InitImages.decode("mask_image", body.maskImage(), violations) : null;
        return validate(model, body, body.initImage() != null, initImage, mask, violations);
    }

    /**
     * For adapters whose images arrive as files, already decoded: {@code initImage} and {@code mask} stand for
     * the body's {@code init_image} and {@code mask_image}, which must be absent.
     */
    public GenerationRequest validate(GenerateRequestBody body, BufferedImage initImage, BufferedImage mask) {
        return validate(model(body.model()), body, initImage != null, initImage, mask, new ArrayList<>());
    }

    private GenerationRequest validate(ServedModel model, GenerateRequestBody body, boolean startsFromImage,
            BufferedImage initImage, BufferedImage mask, List<FieldViolation> violations) {
        ModelCapabilities can = model.capabilities();
        ModelCapabilities.Limits limits = can.limits();
        ModelCapabilities.Defaults defaults = can.defaults();
        if (body.prompt() == null || body.prompt().isBlank()) {
            violations.add(new FieldViolation("prompt", "prompt is required and must not be blank"));
        } else if (body.prompt().length() > limits.maxPromptLength()) {
            violations.add(new FieldViolation("prompt", "prompt must be at most " + limits.maxPromptLength()
                    + " characters, got " + body.prompt().length()));
        }
        if (!can.takesNegativePrompt() && body.negativePrompt() != null && !body.negativePrompt().isEmpty()) {
            violations.add(new FieldViolation("negative_prompt", "the model \"" + model.name() + "\" embeds the "
                    + "guidance scale (a latent consistency model) and has no unconditional pass to give a negative prompt"));
        } else if (body.negativePrompt() != null && body.negativePrompt().length() > limits.maxPromptLength()) {
            violations.add(new FieldViolation("negative_prompt", "negative_prompt must be at most "
                    + limits.maxPromptLength() + " characters, got " + body.negativePrompt().length()));
        }
        checkImageFields(body, startsFromImage, model, violations);
        if (initImage != null && mask != null
                && (mask.getWidth() != initImage.getWidth() || mask.getHeight() != initImage.getHeight())) {
            violations.add(new FieldViolation("mask_image", "mask_image is " + mask.getWidth() + " × " + mask.getHeight()
                    + " but init_image is " + initImage.getWidth() + " × " + initImage.getHeight()
                    + "; they must be the same size"));
        }
        double strength = body.strength() != null ? body.strength() : defaults.strength();
        if (!(strength >= 0 && strength <= 1)) {
            violations.add(new FieldViolation("strength", "strength must be between 0 and 1, got " + strength));
        }
        int[] size = initImage != null && body.width() == null && body.height() == null ? fitted(initImage, limits) : null;
        int width = size != null ? size[0] : orDefault(body.width(), defaults.width());
        int height = size != null ? size[1] : orDefault(body.height(), defaults.height());
        checkSide(violations, "width", width, limits);
        checkSide(violations, "height", height, limits);
        if (width > 0 && height > 0 && (long) width * height > limits.maxPixels()) {
            violations.add(new FieldViolation(body.width() != null ? "width" : "height", "width × height must be at most "
                    + limits.maxPixels() + " pixels, got " + width + " × " + height + " = " + (long) width * height));
        }
        int steps = orDefault(body.steps(), defaults.steps());
        if (steps < 1 || steps > limits.maxSteps()) {
            violations.add(new FieldViolation("steps", "steps must be between 1 and " + limits.maxSteps() + ", got "
                    + steps));
        }
        double guidance = body.guidanceScale() != null ? body.guidanceScale() : defaults.guidanceScale();
        if (!(guidance >= 0 && guidance <= limits.maxGuidanceScale())) {
            violations.add(new FieldViolation("guidance_scale",
                    "guidance_scale must be between 0 and " + limits.maxGuidanceScale() + ", got " + guidance));
        }
        String sampler = body.sampler() != null ? body.sampler() : defaults.sampler();
        if (!can.offers(sampler)) {
            violations.add(new FieldViolation("sampler",
                    "unknown sampler \"" + sampler + "\"; available: " + String.join(", ", can.samplerNames())));
        } else if (steps > can.maxSteps(sampler) && steps <= limits.maxSteps()) {
            // only lcm takes fewer than the model's training timesteps
            violations.add(new FieldViolation("steps", sampler + " takes at most " + can.maxSteps(sampler)
                    + " steps (the model's original_inference_steps), got " + steps));
        }
        double eta = body.eta() != null ? body.eta() : defaults.eta();
        if (!(eta >= 0 && eta <= 1)) {
            violations.add(new FieldViolation("eta", "eta must be between 0 and 1, got " + eta));
        } else if (eta != 0 && !"ddim".equals(sampler)) {
            violations.add(new FieldViolation("eta", "eta is only used by the ddim sampler, not by \"" + sampler + "\""));
        }
        int imageCount = orDefault(body.numImages(), defaults.numImages());
        if (imageCount < 1 || imageCount > limits.maxImages()) {
            violations.add(new FieldViolation("num_images",
                    "num_images must be between 1 and " + limits.maxImages() + ", got " + imageCount));
        }
        long maxSeed = Long.MAX_VALUE - (Math.max(imageCount, 1) - 1);
        if (body.seed() != null && (body.seed() < 0 || body.seed() > maxSeed)) {
            violations.add(new FieldViolation("seed", "seed must be between 0 and " + maxSeed
                    + " (image i uses seed + i), got " + body.seed() + "; omit it to let the server draw one"));
        }
        int clipSkip = orDefault(body.clipSkip(), 0);
        if (clipSkip != 0 && limits.maxClipSkip() == 0) {
            violations.add(new FieldViolation("clip_skip", "the model \"" + model.name() + "\" was exported without "
                    + "clip skip (its pipeline.json has no max_clip_skip); re-export it to skip text-encoder layers"));
        } else if (clipSkip < 0 || clipSkip > limits.maxClipSkip()) {
            violations.add(new FieldViolation("clip_skip", "clip_skip must be between 0 and " + limits.maxClipSkip()
                    + ", got " + clipSkip));
        }
        SizeConditioning sizes = sizeConditioning(body, can, width, height, violations);
        if (!violations.isEmpty()) {
            throw new InvalidRequestException(violations);
        }
        long seed = body.seed() != null ? body.seed() : ThreadLocalRandom.current().nextLong(MAX_DRAWN_SEED);
        List<Long> seeds = new ArrayList<>();
        for (int i = 0; i < imageCount; i++) {
            seeds.add(seed + i);
        }
        InitImage init = initImage == null ? null : new InitImage(InitImages.resize(initImage, width, height), strength,
                mask == null ? null : InitImages.resize(mask, width, height));
        Guidance rows = Guidance.of(can, guidance);
        return new GenerationRequest(model.name(), body.prompt(), body.negativePrompt() != null ? body.negativePrompt() : "",
                width, height, steps, guidance, rows, sampler, eta, seeds, init, clipSkip, sizes,
                rows == Guidance.CLASSIFIER_FREE && can.zeroNegative() && body.negativePrompt() == null);
    }

    /**
     * SDXL's micro-conditioning, diffusers' defaults filled in: the image's size as the original and the target, no
     * crop. Null for a model without it, where the fields are errors.
     */
    private static SizeConditioning sizeConditioning(GenerateRequestBody body, ModelCapabilities can, int width,
            int height, List<FieldViolation> violations) {
        Map<String, List<Integer>> given = new LinkedHashMap<>();
        given.put("original_size", body.originalSize());
        given.put("crops_coords_top_left", body.cropsCoordsTopLeft());
        given.put("target_size", body.targetSize());
        given.values().removeIf(Objects::isNull);
        if (!can.sizeConditioning()) {
            given.keySet().forEach(field -> violations.add(new FieldViolation(field, field + " applies only to models "
                    + "with SDXL's size conditioning, not to \"" + can.name() + "\"")));
            return null;
        }
        boolean valid = true;
        for (Map.Entry<String, List<Integer>> field : given.entrySet()) {
            int least = field.getKey().equals("crops_coords_top_left") ? 0 : 1;
            List<Integer> pair = field.getValue();
            if (pair.size() != 2 || pair.stream().anyMatch(value -> value == null || value < least)) {
                valid = false;
                violations.add(new FieldViolation(field.getKey(), field.getKey() + " must be two integers of at least "
                        + least + (least == 0 ? " ([top, left])" : " ([height, width])") + ", got " + pair));
            }
        }
        if (!valid) {
            return null;
        }
        List<Integer> original = given.getOrDefault("original_size", List.of(height, width));
        List<Integer> crop = given.getOrDefault("crops_coords_top_left", List.of(0, 0));
        List<Integer> target = given.getOrDefault("target_size", List.of(height, width));
        return new SizeConditioning(original.get(0), original.get(1), crop.get(0), crop.get(1), target.get(0),
                target.get(1));
    }

    /** An image to start from needs a model with a VAE encoder; strength and mask need an image. */
    private static void checkImageFields(GenerateRequestBody body, boolean startsFromImage, ServedModel model,
            List<FieldViolation> violations) {
        if (!startsFromImage) {
            if (body.strength() != null) {
                violations.add(new FieldViolation("strength", "strength applies only with init_image"));
            }
            if (body.maskImage() != null) {
                violations.add(new FieldViolation("mask_image", "mask_image applies only with init_image"));
            }
        } else if (!model.capabilities().imageToImage()) {
            violations.add(new FieldViolation("init_image", "the model \"" + model.name() + "\" has no "
                    + PipelineDirectory.VAE_ENCODER + ", so it cannot start from an image"));
        }
    }

    /**
     * The size of a request that gives an init image but no width or height: the image's, scaled down to fit
     * {@code stipple.limits.max-pixels} if need be, each side rounded down to the model's size multiple.
     */
    private static int[] fitted(BufferedImage image, ModelCapabilities.Limits limits) {
        double scale = Math.min(1.0, Math.sqrt((double) limits.maxPixels() / ((long) image.getWidth() * image.getHeight())));
        int multiple = limits.sizeMultiple();
        int width = Math.max(multiple, (int) (image.getWidth() * scale) / multiple * multiple);
        int height = Math.max(multiple, (int) (image.getHeight() * scale) / multiple * multiple);
        return new int[] {width, height};
    }

    private static void checkSide(List<FieldViolation> violations, String field, int value,
            ModelCapabilities.Limits limits) {
        int multiple = limits.sizeMultiple();
        if (value < multiple || value % multiple != 0) {
            violations.add(new FieldViolation(field, field + " must be a positive multiple of " + multiple
                    + " (the model's size multiple), got " + value));
        }
    }

    private static int orDefault(Integer value, int fallback) {
        return value != null ? value : fallback;
    }
}
