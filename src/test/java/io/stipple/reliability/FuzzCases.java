package io.stipple.reliability;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

/**
 * Every kind of request the fuzzer sends, one arbitrary per category (the category names are those of
 * docs/RELIABILITY.md). Generating requests cost the model little: the smallest sizes, one or two steps.
 */
final class FuzzCases {
    /** Stipple's own, and the compatibility layers' (whose errors come in their APIs' shapes: ApiContract). */
    static final List<String> BODY_ENDPOINTS = List.of("/generate", "/v1/jobs", "/v1/images/generations",
            "/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/options");
    /** Bodies around the server's 8MB limit (stipple.limits.max-request-size) must be read and refused (413) above it, not cut off. */
    private static final int LIMIT = 8 * 1024 * 1024;

    private final GenerationBodies bodies;
    private final String succeededJob;

    FuzzCases(ModelRules rules, String succeededJob) {
        this.bodies = new GenerationBodies(rules);
        this.succeededJob = succeededJob;
    }

    Arbitrary<FuzzRequest> all() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, jsonTrees()),
                Tuple.of(3, wrongTypes()),
                Tuple.of(3, extremeNumbers()),
                Tuple.of(1, hugeDocuments()),
                Tuple.of(2, invalidUtf8()),
                Tuple.of(2, unicodePrompts()),
                Tuple.of(2, contentTypes()),
                Tuple.of(1, emptyBodies()),
                Tuple.of(3, jobPaths()),
                Tuple.of(2, methods()),
                Tuple.of(2, queryParameters()));
    }

    private static Arbitrary<String> bodyEndpoint() {
        return Arbitraries.of(BODY_ENDPOINTS);
    }

    private static Arbitrary<FuzzRequest> posted(String category, Arbitrary<String> json) {
        return Combinators.combine(bodyEndpoint(), json).as((path, body) -> FuzzRequest.postJson(category, path, body));
    }

    Arbitrary<FuzzRequest> jsonTrees() {
        return posted("json-tree", JsonText.tree(4));
    }

    Arbitrary<FuzzRequest> wrongTypes() {
        return posted("wrong-type", bodies.oneWrongType().map(JsonText::object));
    }

    Arbitrary<FuzzRequest> extremeNumbers() {
        return posted("extreme-number", bodies.oneExtremeNumber().map(JsonText::object));
    }

    /** Deep nesting (to 100,000 levels), long strings and numbers, many members; some streamed without a length. */
    Arbitrary<FuzzRequest> hugeDocuments() {
        Arbitrary<Integer> size = Arbitraries.of(100, 1_000, 10_000, 30_000, 60_000, 100_000);
        Arbitrary<String> document = Combinators.combine(Arbitraries.integers().between(0, 6), size).as((shape, n) -> switch (shape) {
            case 0 -> "[".repeat(n) + "]".repeat(n);
            case 1 -> "{\"a\":".repeat(n) + "1" + "}".repeat(n);
            case 2 -> "{\"prompt\":\"a cat\",\"width\":" + "[".repeat(n) + "]".repeat(n) + "}";
            case 3 -> "{\"prompt\":" + JsonText.quote("a".repeat(n), true) + ",\"steps\":1,\"width\":4,\"height\":4}";
            case 4 -> "{\"prompt\":\"a cat\",\"seed\":" + "7".repeat(n) + "}";
            case 5 -> "{" + "\"prompt\":\"a cat\",".repeat(n / 17) + "\"steps\":1,\"width\":4,\"height\":4}";
            default -> "[" + "{},".repeat(n / 3) + "{}]";
        });
        Arbitrary<FuzzRequest> sized = posted("huge-document", document);
        Arbitrary<FuzzRequest> atTheLimit = Combinators.combine(bodyEndpoint(), Arbitraries.of(-1, 0, 1))
                .as((path, offset) -> FuzzRequest.postJson("huge-document", path, padded(LIMIT + offset)));
        return Combinators.combine(Arbitraries.oneOf(sized, atTheLimit), Arbitraries.of(false, true))
                .as((request, chunked) -> chunked ? request.chunkedBody() : request);
    }

    /** A small valid body padded with spaces to exactly {@code length} bytes. */
    private static String padded(int length) {
        String body = "{\"prompt\":\"a cat\",\"steps\":1,\"width\":4,\"height\":4}";
        return body.substring(0, body.length() - 1) + " ".repeat(length - body.length()) + "}";
    }

    /** Valid bodies whose prompt (or whole text) carries malformed UTF-8: stray, overlong, surrogate, truncated. */
    Arbitrary<FuzzRequest> invalidUtf8() {
        Arbitrary<byte[]> bad = Arbitraries.of(
                new byte[] {(byte) 0xff}, new byte[] {(byte) 0xfe, (byte) 0xff}, new byte[] {(byte) 0x80},
                new byte[] {(byte) 0xc3, 0x28}, new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[] {(byte) 0xed, (byte) 0xbf, (byte) 0xbf},
                new byte[] {(byte) 0xf0, (byte) 0x9f, (byte) 0x98}, new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
                new byte[] {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, new byte[] {(byte) 0xc1, (byte) 0xbf},
                new byte[] {0}, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
        Arbitrary<Integer> where = Arbitraries.integers().between(0, 2);
        return Combinators.combine(bodyEndpoint(), bad, where).as((path, bytes, place) -> {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            String head = "{\"prompt\":\"a ";
            String tail = " cat\",\"steps\":1,\"width\":4,\"height\":4}";
            switch (place) {
                case 0 -> write(body, bytes, head.getBytes(StandardCharsets.US_ASCII), tail.getBytes(StandardCharsets.US_ASCII));
                case 1 -> write(body, head.getBytes(StandardCharsets.US_ASCII), tail.getBytes(StandardCharsets.US_ASCII), bytes);
                default -> write(body, head.getBytes(StandardCharsets.US_ASCII), bytes, tail.getBytes(StandardCharsets.US_ASCII));
            }
            return FuzzRequest.post("invalid-utf8", path, "application/json", body.toByteArray());
        });
    }

    private static void write(ByteArrayOutputStream out, byte[]... parts) {
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
    }

    /** Valid, cheap bodies whose prompts are made of Unicode edge cases, escaped or raw; these must generate. */
    Arbitrary<FuzzRequest> unicodePrompts() {
        Arbitrary<String> piece = Arbitraries.oneOf(Arbitraries.of(JsonText.UNICODE_EDGES),
                Arbitraries.chars().map(String::valueOf), Arbitraries.strings().alpha().ofMaxLength(8));
        Arbitrary<String> prompt = Arbitraries.oneOf(
                piece.list().ofMinSize(1).ofMaxSize(30).map(pieces -> String.join("", pieces)),
                piece.map(p -> ("a cat " + p).repeat(2000 / (p.length() + 6) + 1)));
        return Combinators.combine(bodyEndpoint(), bodies.valid(), prompt, Arbitraries.of(true, false), Arbitraries.of(FieldChoice.values()))
                .as((path, body, text, ascii, field) -> {
                    Map<String, String> changed = GenerationBodies.with(body, field.name, JsonText.quote(text, ascii));
                    return FuzzRequest.post("unicode-prompt", path, "application/json",
                            JsonText.object(changed).getBytes(StandardCharsets.UTF_8));
                });
    }

    private enum FieldChoice {
        PROMPT("prompt"), NEGATIVE_PROMPT("negative_prompt"), SAMPLER("sampler");

        final String name;

        FieldChoice(String name) {
            this.name = name;
        }
    }

    /** Valid or broken bodies under wrong, odd or missing Content-Type and Accept headers. */
    Arbitrary<FuzzRequest> contentTypes() {
        Arbitrary<String> contentType = Arbitraries.oneOf(Arbitraries.of("text/plain", "application/xml", "text/json",
                "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "multipart/form-data",
                "application/json; charset=utf-16", "application/json; charset=UTF-32BE", "application/json; charset=nonsense",
                "application/json; charset=", "application/json; charset=\"utf-8\"", "application/json;;;", "application/json; q=0",
                "application/problem+json", "application/*", "*/*", "*", "json", "/", "application/json-patch+json",
                "application/vnd.api+json", "APPLICATION/JSON", "application/json ; charset = utf-8", "image/png", "",
                "application/json, text/plain", "application/json; boundary=\"", "application/json; x=\"\\\""),
                Arbitraries.strings().ascii().ofMaxLength(40).filter(FuzzCases::headerSafe));
        Arbitrary<String> accept = Arbitraries.oneOf(Arbitraries.of("image/png", "text/html", "application/xml", "*/*",
                "image/*;q=0", "application/json;q=0", "image/png;q=abc", "application/json;q=2", "text/event-stream",
                "application/problem+json", "image/jpeg", "image/png, application/json;q=0.9", "*/*;q=0", ",", ";", "*",
                "application/json;q=0.5;q=0.9", "image/png;q=1e1", "image/png;q=-1", "text/*"),
                Arbitraries.strings().ascii().ofMaxLength(40).filter(FuzzCases::headerSafe));
        Arbitrary<String> body = Arbitraries.oneOf(bodies.valid().map(JsonText::object), JsonText.tree(2));
        Arbitrary<FuzzRequest> wrongContentType = Combinators.combine(bodyEndpoint(), contentType, body)
                .as((path, type, json) -> FuzzRequest.post("content-type", path, type, json.getBytes(StandardCharsets.UTF_8)));
        Arbitrary<FuzzRequest> noContentType = Combinators.combine(bodyEndpoint(), body)
                .as((path, json) -> FuzzRequest.post("content-type", path, null, json.getBytes(StandardCharsets.UTF_8)));
        Arbitrary<FuzzRequest> validBodyOddAccept = Combinators.combine(Arbitraries.of("/generate"), bodies.valid(), accept)
                .as((path, json, type) -> FuzzRequest.postJson("content-type", path, JsonText.object(json)).withHeader("Accept", type));
        Arbitrary<FuzzRequest> anyRequestOddAccept = Combinators.combine(Arbitraries.oneOf(jobPaths(), methods()), accept)
                .as((request, type) -> request.withHeader("Accept", type).inCategory("content-type"));
        return Arbitraries.oneOf(wrongContentType, noContentType, validBodyOddAccept, anyRequestOddAccept);
    }

    /** Header values the HTTP client can send: no control characters. */
    private static boolean headerSafe(String value) {
        return value.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
    }

    Arbitrary<FuzzRequest> emptyBodies() {
        Arbitrary<String> body = Arbitraries.of("", " ", "\n", "\r\n\r\n", "null", "[]", "{}", "\"\"", "0", "true", "[null]",
                "{}{}", "{\"prompt\":\"a cat\"}{", "{\"prompt\":\"a cat\",}", "{'prompt':'a cat'}", "{prompt:\"a cat\"}",
                "{\"prompt\":\"a cat\"} trailing", "/* comment */ {\"prompt\":\"a cat\"}", "\ufeff{\"prompt\":\"a\"}",
                "{\"prompt\":\"a cat\"", "{\"prompt\":\"a cat", "{\"prompt\":", "{\"", "{");
        return Combinators.combine(posted("empty-body", body), Arbitraries.of(false, true))
                .as((request, chunked) -> chunked ? request.chunkedBody() : request);
    }

    /** GET and DELETE of jobs, their events and images, for real, unknown and malformed ids and indexes. */
    Arbitrary<FuzzRequest> jobPaths() {
        Arbitrary<String> id = Arbitraries.oneOf(
                Arbitraries.just(succeededJob),
                Arbitraries.create(() -> UUID.randomUUID().toString()),
                Arbitraries.of("", ".", "..", "%2e%2e", "%2F", "a%2Fb", "%00", "%ff", "%e2%80%ae", "%C0%AF", "%25", "null",
                        "undefined", "-1", "0", "%20", "a;b", ";jsessionid=1", "~", "*", "%5C", "%7B%7D", succeededJob.toUpperCase(),
                        succeededJob + "%00", succeededJob + "/", "x".repeat(5000)),
                Arbitraries.strings().ofMaxLength(30).map(FuzzCases::percentEncoded));
        Arbitrary<String> index = Arbitraries.oneOf(Arbitraries.of("0", "1", "-1", "00", "+0", "%200", "0x0", "1e0", "2147483648",
                "99999999999999999999", "-0", "%00", "NaN", "", "0.0", "٠"), Arbitraries.integers().map(String::valueOf));
        Arbitrary<String> suffix = Arbitraries.oneOf(Arbitraries.of("", "/events", "/", "/images", "/images/"),
                index.map(n -> "/images/" + n));
        Arbitrary<String> method = Arbitraries.of("GET", "GET", "GET", "DELETE");
        return Combinators.combine(method, id, suffix)
                .as((m, i, s) -> FuzzRequest.bodiless("job-path", m, "/v1/jobs/" + i + s));
    }

    /** Every endpoint under every method, with or without a body. */
    Arbitrary<FuzzRequest> methods() {
        Arbitrary<String> path = Arbitraries.of("/generate", "/v1/jobs", "/v1/model", "/v1/jobs/" + succeededJob,
                "/v1/jobs/" + succeededJob + "/events", "/v1/jobs/" + succeededJob + "/images/0", "/v1/models",
                "/generate/", "/v1/model/", "/v1/jobs/", "/GENERATE", "/v1//model", "/v1/./model", "/v2/jobs",
                "/v1/images/generations", "/v1/images/edits", "/sdapi/v1/txt2img", "/sdapi/v1/progress",
                "/sdapi/v1/interrupt", "/sdapi/v1/options", "/sdapi/v1/samplers", "/sdapi/v1/nothing");
        Arbitrary<String> method = Arbitraries.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "FOO");
        Arbitrary<Boolean> withBody = Arbitraries.of(false, true);
        return Combinators.combine(method, path, withBody, bodies.valid()).as((m, p, body, json) -> body
                ? new FuzzRequest("method", m, p, List.of(new FuzzRequest.Header("Content-Type", "application/json")),
                        JsonText.object(json).getBytes(StandardCharsets.UTF_8), false)
                : FuzzRequest.bodiless("method", m, p));
    }

    /** Query parameters the API does not define (format=png among them), on every endpoint that takes input. */
    Arbitrary<FuzzRequest> queryParameters() {
        Arbitrary<String> name = Arbitraries.oneOf(Arbitraries.of("format", "prompt", "steps", "width", "n", "id", "async",
                "callback", "_method", "", "format[]"), Arbitraries.strings().ofMaxLength(10).map(FuzzCases::percentEncoded));
        Arbitrary<String> value = Arbitraries.oneOf(Arbitraries.of("png", "json", "image/png", "", "1", "-1", "true", "%00",
                "%ff", "x".repeat(4000)), Arbitraries.strings().ofMaxLength(20).map(FuzzCases::percentEncoded));
        Arbitrary<String> query = Combinators.combine(name, value, Arbitraries.of("=", "", "==")).as((n, v, eq) -> n + eq + v)
                .list().ofMinSize(1).ofMaxSize(4).map(pairs -> "?" + String.join("&", pairs));
        Arbitrary<FuzzRequest> target = Arbitraries.oneOf(
                Combinators.combine(bodyEndpoint(), bodies.valid()).as((p, b) -> FuzzRequest.postJson("query", p, JsonText.object(b))),
                Arbitraries.of(FuzzRequest.bodiless("query", "GET", "/v1/model")),
                jobPaths());
        return Combinators.combine(target, query).as((request, q) -> request.withPath(request.pathAndQuery() + q)
                .inCategory("query"));
    }

    /** Every byte that is not unreserved in a URI as %XX of its UTF-8 (lone surrogates become '?'). */
    static String percentEncoded(String text) {
        StringBuilder out = new StringBuilder();
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
                out.append((char) c);
            } else {
                out.append(String.format("%%%02X", c));
            }
        }
        return out.toString();
    }
}
