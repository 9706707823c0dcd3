package io.stipple.reliability;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * JSON written by hand rather than by a serializer, so that it can hold what serializers refuse to write:
 * lone surrogates, NUL, numbers too large for any Java type, NaN, bare Infinity, and any nesting depth.
 */
final class JsonText {
    /** Number literals at and past the edges of int, long and double, and of Jackson's own limits. */
    static final List<String> EXTREME_NUMBERS = List.of(
            "0", "-0", "-0.0", "0.0", "1", "-1", "0e0", "1e0", "1E+2", "1e-2",
            "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
            "18446744073709551616", "99999999999999999999999999999999999999",
            "1e308", "1.7976931348623157e308", "1e309", "-1e309", "4.9e-324", "1e-400", "2.5e-324",
            "1e2147483647", "1e-2147483648", "1e99999999999", "123456789012345678901234567890e-30",
            "0.1000000000000000055511151231257827021181583404541015625",
            "64.00000000000000000000000000000000001", "63.99999999999999999999999999", "1.5", "64.0", "4.0",
            "0." + "0".repeat(500) + "1", "1" + "0".repeat(999), "1" + "0".repeat(1000), "9".repeat(5000),
            "1." + "1".repeat(5000), "-" + "9".repeat(20000));

    /** Literals that are not JSON, but that lenient parsers accept as numbers. */
    static final List<String> NON_FINITE = List.of(
            "NaN", "-NaN", "Infinity", "-Infinity", "+Infinity", "inf", "-inf", "+1", "01", "0x40", ".5", "5.",
            "1e", "--1", "1_000", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e309\"", "\"64\"", "\"0x40\"");

    /** Text that breaks tokenizers and terminals: controls, bidi overrides, invisible, combining and astral characters. */
    static final List<String> UNICODE_EDGES = List.of(
            "\u0000", "\u0001", "\u001b[31m", "\u007f", "\u0085", "\u00a0", "\r\n", "\t",
            "\ud800", "\udfff", "\udc00\ud800", "\ud83d\ude00", "\ud83d", "\ude00", "\ud834\udd1e",
            "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufffe", "\uffff", "\ufffd",
            "\u202e", "\u202d", "\u2066", "\u2069", "\u200f", "\u061c", "مرحبا", "שלום",
            "e\u0301", "\u0301", "Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357\u0358\u0359\u035a\u035b", "\u0e01\u0e38\u0e4a",
            "\u1100\u1161\u11a8", "한국어", "日本語の文", "\u3000", "\u2028", "\u2029", "\ud83c\udff3\ufe0f\u200d\ud83c\udf08",
            "\ud83d\udc69\ud83c\udffd\u200d\ud83d\udcbb", "\ufdfd", "\ua9c1", "ﷺ", "\\", "\"", "/", "%s%n%x", "' OR 1=1 --",
            "<script>alert(1)</script>", "${jndi:ldap://x}", "../../etc/passwd", "\ud801\udc37", "İı", "ß", "ǅ");

    private JsonText() {
    }

    /**
     * A JSON string literal. {@code asciiOnly} escapes every non-ASCII UTF-16 unit as \\uXXXX (so lone
     * surrogates survive); otherwise they are written raw and the caller's encoding decides.
     */
    static String quote(String value, boolean asciiOnly) {
        StringBuilder out = new StringBuilder(value.length() + 2).append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || (asciiOnly && c > 0x7e)) {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.append('"').toString();
    }

    static String object(Map<String, String> fields) {
        return fields.entrySet().stream().map(field -> quote(field.getKey(), true) + ":" + field.getValue())
                .collect(Collectors.joining(",", "{", "}"));
    }

    /** Any JSON value up to {@code depth} levels of arrays and objects, with keys often the API's own. */
    static String tree(FuzzRandom random, int depth) {
        if (depth == 0) {
            return scalar(random);
        }
        return random.frequency(
                new FuzzRandom.Weighted<>(3, JsonText::scalar),
                new FuzzRandom.Weighted<>(1, r -> treeArray(r, depth)),
                new FuzzRandom.Weighted<>(2, r -> treeObject(r, depth)));
    }

    private static String treeArray(FuzzRandom random, int depth) {
        return random.list(0, 4, r -> tree(r, depth - 1)).stream().collect(Collectors.joining(",", "[", "]"));
    }

    private static String treeObject(FuzzRandom random, int depth) {
        return random.list(0, 5, r -> quote(key(r), true) + ":" + tree(r, depth - 1)).stream()
                .collect(Collectors.joining(",", "{", "}"));
    }

    private static String key(FuzzRandom random) {
        return random.oneOf(
                r -> r.pick(GenerationBodies.FIELDS),
                r -> r.pick(GenerationBodies.FIELDS).toUpperCase(),
                r -> r.text(12),
                r -> r.pick("", "__proto__", "constructor", "prompt ", " prompt", "negativePrompt", "numImages"));
    }

    private static String scalar(FuzzRandom random) {
        return random.oneOf(
                r -> r.pick("null", "true", "false", "\"\"", "[]", "{}"),
                r -> r.pick(EXTREME_NUMBERS),
                r -> String.valueOf(r.anyInt()),
                r -> String.valueOf(r.anyDouble()),
                r -> quote(r.text(20), true),
                r -> quote(r.pick(UNICODE_EDGES), true));
    }
}
