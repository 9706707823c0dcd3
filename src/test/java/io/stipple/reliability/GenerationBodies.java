package io.stipple.reliability;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * Bodies of {@code POST /generate} and {@code POST /v1/jobs} as ordered field → JSON text maps: valid ones
 * that cost the model little (the smallest sizes, one or two steps), and the same with one field broken.
 */
final class GenerationBodies {
    static final List<String> FIELDS = List.of("prompt", "negative_prompt", "width", "height", "steps",
            "guidance_scale", "sampler", "eta", "seed", "num_images");
    private static final List<String> INTEGER_FIELDS = List.of("width", "height", "steps", "seed", "num_images");
    private static final List<String> TEXT_FIELDS = List.of("prompt", "negative_prompt", "sampler");

    private final ModelRules rules;

    GenerationBodies(ModelRules rules) {
        this.rules = rules;
    }

    /** A valid, cheap body; optional fields are sometimes left out, never the ones that set its cost. */
    Arbitrary<Map<String, String>> valid() {
        Arbitrary<String> prompt = Arbitraries.strings().alpha().withChars(' ').ofMinLength(1).ofMaxLength(40)
                .filter(s -> !s.isBlank()).map(s -> JsonText.quote(s, true));
        Arbitrary<String> side = Arbitraries.integers().between(1, 4).map(k -> String.valueOf(k * rules.sizeMultiple()));
        Arbitrary<String> steps = Arbitraries.integers().between(1, Math.min(2, rules.maxSteps())).map(String::valueOf);
        Arbitrary<String> guidance = Arbitraries.doubles().between(0, 30).ofScale(2).map(String::valueOf);
        Arbitrary<String> sampler = Arbitraries.of(rules.samplers());
        Arbitrary<String> seed = Arbitraries.longs().between(0, Long.MAX_VALUE - rules.maxImages()).map(String::valueOf);
        Arbitrary<String> images = Arbitraries.integers().between(1, Math.min(2, rules.maxImages())).map(String::valueOf);
        Arbitrary<Boolean> withOptionals = Arbitraries.of(true, false);
        return Combinators.combine(prompt, side, side, steps, guidance, sampler, seed, images)
                .flatAs((p, w, h, st, g, sa, se, n) -> withOptionals.map(optionals -> {
                    Map<String, String> body = new LinkedHashMap<>();
                    body.put("prompt", p);
                    body.put("width", w);
                    body.put("height", h);
                    body.put("steps", st);
                    body.put("num_images", n);
                    if (optionals) {
                        body.put("negative_prompt", "\"a plain background\"");
                        body.put("guidance_scale", g);
                        body.put("sampler", JsonText.quote(sa, true));
                        body.put("seed", se);
                        if (sa.equals("ddim")) {
                            body.put("eta", "0.5");
                        }
                    }
                    return body;
                }));
    }

    /** A valid body with one field set to a value of another JSON type, or to null. */
    Arbitrary<Map<String, String>> oneWrongType() {
        return Combinators.combine(valid(), Arbitraries.of(FIELDS)).flatAs((body, field) ->
                wrongTypeFor(field).map(value -> with(body, field, value)));
    }

    /** A valid body with one numeric field set to an extreme or non-JSON number. */
    Arbitrary<Map<String, String>> oneExtremeNumber() {
        Arbitrary<String> field = Arbitraries.of(FIELDS).filter(f -> !TEXT_FIELDS.contains(f));
        Arbitrary<String> number = Arbitraries.oneOf(Arbitraries.of(JsonText.EXTREME_NUMBERS),
                Arbitraries.of(JsonText.NON_FINITE));
        return Combinators.combine(valid(), field, number).as((body, f, n) -> with(body, f, n));
    }

    private static Arbitrary<String> wrongTypeFor(String field) {
        Arbitrary<String> structures = Arbitraries.of("null", "true", "false", "[]", "{}", "[64]", "{\"value\":64}",
                "[\"a cat\"]", "{\"text\":\"a cat\"}");
        if (TEXT_FIELDS.contains(field)) {
            return Arbitraries.oneOf(structures, Arbitraries.of("42", "0", "-1.5", "1e3"));
        }
        if (INTEGER_FIELDS.contains(field)) {
            return Arbitraries.oneOf(structures, Arbitraries.of("\"64\"", "\"\"", "\"sixty-four\"", "64.5", "4.0",
                    "0.5", "1e1", "1.0e2", "-0.0", "\"0x40\"", "\" 8\""));
        }
        return Arbitraries.oneOf(structures, Arbitraries.of("\"3.5\"", "\"\"", "\"high\"", "\"NaN\""));
    }

    static Map<String, String> with(Map<String, String> body, String field, String value) {
        Map<String, String> changed = new LinkedHashMap<>(body);
        changed.put(field, value);
        return changed;
    }
}
