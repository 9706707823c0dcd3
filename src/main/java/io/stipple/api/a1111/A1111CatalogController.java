package io.stipple.api.a1111;

import io.stipple.api.InvalidRequestException;
import io.stipple.model.ServedModels;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * What A1111 clients read before they generate: samplers, schedules, checkpoints (the served models), settings,
 * and the empty lists of what Stipple does not have (upscalers, extra VAEs), in A1111's shapes.
 */
@RestController
@Tag(name = "AUTOMATIC1111 API")
public class A1111CatalogController {
    private static final String PATH = A1111Controller.PATH;

    private final ServedModels models;

    public A1111CatalogController(ServedModels models) {
        this.models = models;
    }

    /** The samplers some served model offers, in A1111's names: the list is one for every checkpoint, as in A1111. */
    @Operation(summary = "Samplers, with A1111's names (AUTOMATIC1111)")
    @GetMapping(PATH + "samplers")
    public List<Map<String, Object>> samplers() {
        return A1111Samplers.ENTRIES.stream()
                .filter(entry -> models.all().stream().anyMatch(model -> model.capabilities().offers(entry.stipple())))
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
        options.put("sd_model_checkpoint", models.defaultModel().name());
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
        String checkpoint = A1111Controller.checkpoint(settings);
        if (checkpoint != null && models.find(checkpoint).isEmpty()) {
            throw new InvalidRequestException("sd_model_checkpoint", "unknown checkpoint \"" + checkpoint
                    + "\"; served: " + String.join(", ", models.names()));
        }
        return Map.of();
    }
}
