package io.stipple.reliability;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bodies of {@code POST /generate} and {@code POST /v1/jobs} as ordered field → JSON text maps: valid ones
 * that cost the model little (the smallest sizes, one or two steps), and the same with one field broken.
 */
final class GenerationBodies {
    static final List<String> FIELDS = List.of("prompt", "negative_prompt", "width", "height", "steps",
            "guidance_scale", "sampler", "eta", "seed", "num_images");
    private static final List<String> INTEGER_FIELDS = List.of("width", "height", "steps", "seed", "num_images");
    private static final List<String> TEXT_FIELDS = List.of("prompt", "negative_prompt", "sampler");
    private static final List<String> NUMERIC_FIELDS = FIELDS.stream().filter(field -> !TEXT_FIELDS.contains(field)).toList();
    private static final List<String> STRUCTURES = List.of("null", "true", "false", "[]", "{}", "[64]", "{\"value\":64}",
            "[\"a cat\"]", "{\"text\":\"a cat\"}");
    private static final List<String> NOT_TEXT = List.of("42", "0", "-1.5", "1e3");
    private static final List<String> NOT_INTEGERS = List.of("\"64\"", "\"\"", "\"sixty-four\"", "64.5", "4.0",
            "0.5", "1e1", "1.0e2", "-0.0", "\"0x40\"", "\" 8\"");
    private static final List<String> NOT_NUMBERS = List.of("\"3.5\"", "\"\"", "\"high\"", "\"NaN\"");

    private final ModelRules rules;

    GenerationBodies(ModelRules rules) {
        this.rules = rules;
    }

    /** A valid, cheap body; optional fields are sometimes left out, never the ones that set its cost. */
    Map<String, String> valid(FuzzRandom random) {
        Map<String, String> body = new LinkedHashMap<>();
        // A letter first: a prompt must not be blank.
        String prompt = random.string(FuzzRandom.LETTERS, 1, 1) + random.string(FuzzRandom.LETTERS + " ", 0, 39);
        body.put("prompt", JsonText.quote(prompt, true));
        body.put("width", String.valueOf(random.between(1, 4) * rules.sizeMultiple()));
        body.put("height", String.valueOf(random.between(1, 4) * rules.sizeMultiple()));
        body.put("steps", String.valueOf(random.between(1, Math.min(2, rules.maxSteps()))));
        body.put("num_images", String.valueOf(random.between(1, Math.min(2, rules.maxImages()))));
        if (random.coin()) {
            String sampler = random.pick(rules.samplers());
            body.put("negative_prompt", "\"a plain background\"");
            body.put("guidance_scale", BigDecimal.valueOf(random.between(0, 3000), 2).toPlainString());
            body.put("sampler", JsonText.quote(sampler, true));
            body.put("seed", String.valueOf(random.between(0L, Long.MAX_VALUE - rules.maxImages())));
            if (sampler.equals("ddim")) {
                body.put("eta", "0.5");
            }
        }
        return body;
    }

    /** A valid body with one field set to a value of another JSON type, or to null. */
    Map<String, String> oneWrongType(FuzzRandom random) {
        Map<String, String> body = valid(random);
        String field = random.pick(FIELDS);
        return with(body, field, random.coin() ? random.pick(STRUCTURES) : random.pick(wrongScalarsFor(field)));
    }

    /** A valid body with one numeric field set to an extreme or non-JSON number. */
    Map<String, String> oneExtremeNumber(FuzzRandom random) {
        Map<String, String> body = valid(random);
        String field = random.pick(NUMERIC_FIELDS);
        return with(body, field, random.pick(random.coin() ? JsonText.EXTREME_NUMBERS : JsonText.NON_FINITE));
    }

    private static List<String> wrongScalarsFor(String field) {
        if (TEXT_FIELDS.contains(field)) {
            return NOT_TEXT;
        }
        return INTEGER_FIELDS.contains(field) ? NOT_INTEGERS : NOT_NUMBERS;
    }

    static Map<String, String> with(Map<String, String> body, String field, String value) {
        Map<String, String> changed = new LinkedHashMap<>(body);
        changed.put(field, value);
        return changed;
    }
}
