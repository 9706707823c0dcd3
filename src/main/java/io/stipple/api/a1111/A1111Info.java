package io.stipple.api.a1111;

import io.stipple.pipeline.GeneratedImage;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.GenerationResult;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code info} of an A1111 answer, which clients parse for seeds and show as each image's parameters. */
final class A1111Info {
    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);

    private A1111Info() {
    }

    /** A1111's generation info: what ran, per image its seed and its infotext, the line A1111 writes into PNGs. */
    static Map<String, Object> of(GenerationResult result, Instant started) {
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
        info.put("clip_skip", request.clipSkip() + 1);
        info.put("is_using_inpainting_conditioning", false);
        info.put("version", "stipple");
        return info;
    }

    private static String infotext(GenerationRequest request, String[] sampler, long seed) {
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
        if (request.clipSkip() > 0) {
            text.append(", Clip skip: ").append(request.clipSkip() + 1);
        }
        return text.append(", Version: stipple").toString();
    }
}
