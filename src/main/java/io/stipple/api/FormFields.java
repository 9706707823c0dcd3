package io.stipple.api;

import io.stipple.api.InvalidRequestException.FieldViolation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.multipart.MultipartHttpServletRequest;

/**
 * A {@code multipart/form-data} request as the JSON body it stands for, for {@code curl -F}: every field a
 * text part, the images ({@code init_image}, {@code mask_image}) files or base64 text. The same fields as
 * the JSON body, the same strictness: an unknown part or a number that does not parse is a 400 naming it.
 */
final class FormFields {
    private static final Set<String> FIELDS = Set.of("prompt", "negative_prompt", "width", "height", "steps",
            "guidance_scale", "sampler", "eta", "seed", "num_images", "init_image", "strength", "mask_image", "model",
            "clip_skip", "original_size", "crops_coords_top_left", "target_size");

    private final MultipartHttpServletRequest form;
    private final List<FieldViolation> violations = new ArrayList<>();

    private FormFields(MultipartHttpServletRequest form) {
        this.form = form;
    }

    static GenerateRequestBody body(MultipartHttpServletRequest form) {
        return new FormFields(form).read();
    }

    private GenerateRequestBody read() {
        List<String> names = new ArrayList<>(form.getParameterMap().keySet());
        names.addAll(form.getFileMap().keySet());
        for (String name : names) {
            if (!FIELDS.contains(name)) {
                violations.add(new FieldViolation(name, "Unknown field \"" + name + "\"; known fields are "
                        + FIELDS.stream().sorted().toList()));
            }
        }
        GenerateRequestBody body = new GenerateRequestBody(text("prompt"), text("negative_prompt"),
                number("width", Integer::valueOf), number("height", Integer::valueOf), number("steps", Integer::valueOf),
                number("guidance_scale", Double::valueOf), text("sampler"), number("eta", Double::valueOf),
                number("seed", Long::valueOf), number("num_images", Integer::valueOf), image("init_image"),
                number("strength", Double::valueOf), image("mask_image"), text("model"),
                number("clip_skip", Integer::valueOf), pair("original_size"), pair("crops_coords_top_left"),
                pair("target_size"));
        if (!violations.isEmpty()) {
            throw new InvalidRequestException(violations);
        }
        return body;
    }

    /** Two integers written as in a JSON array, without the brackets: {@code 1024,768}. */
    private List<Integer> pair(String name) {
        String text = text(name);
        if (text == null) {
            return null;
        }
        String[] parts = text.split(",", -1);
        try {
            if (parts.length == 2) {
                return List.of(Integer.valueOf(parts[0].strip()), Integer.valueOf(parts[1].strip()));
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        violations.add(new FieldViolation(name, name + " must be two integers separated by a comma, got \"" + text
                + "\""));
        return null;
    }

    private String text(String name) {
        return form.getParameter(name);
    }

    private <T> T number(String name, Function<String, T> parse) {
        String text = text(name);
        if (text == null) {
            return null;
        }
        try {
            return parse.apply(text.strip());
        } catch (NumberFormatException e) {
            violations.add(new FieldViolation(name, name + " must be a number, got \"" + text + "\""));
            return null;
        }
    }

    /** An uploaded file as the base64 the JSON body carries, or the part's text if it was sent as text. */
    private String image(String name) {
        MultipartFile file = form.getFile(name);
        if (file == null) {
            return text(name);
        }
        try {
            return Base64.getEncoder().encodeToString(file.getBytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
