package io.stipple.reliability;

import io.stipple.reliability.FuzzRandom.Weighted;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Every kind of request the fuzzer sends, one method per category (the category names are those of
 * docs/RELIABILITY.md), weighted in {@link #next}. Generating requests cost the model little: the smallest
 * sizes, one or two steps.
 */
final class FuzzCases {
    /** Stipple's own, and the compatibility layers' (whose errors come in their APIs' shapes: ApiContract). */
    private static final List<String> BODY_ENDPOINTS = List.of("/generate", "/v1/jobs", "/v1/images/generations",
            "/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/options");
    /** Bodies around the server's 8MB limit (stipple.limits.max-request-size) must be read and refused (413) above it, not cut off. */
    private static final int LIMIT = 8 * 1024 * 1024;
    private static final String VALID_HEAD = "{\"prompt\":\"a ";
    private static final String VALID_TAIL = " cat\",\"steps\":1,\"width\":4,\"height\":4}";
    private static final List<byte[]> BAD_UTF8 = List.of(
            new byte[] {(byte) 0xff}, new byte[] {(byte) 0xfe, (byte) 0xff}, new byte[] {(byte) 0x80},
            new byte[] {(byte) 0xc3, 0x28}, new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},
            new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[] {(byte) 0xed, (byte) 0xbf, (byte) 0xbf},
            new byte[] {(byte) 0xf0, (byte) 0x9f, (byte) 0x98}, new byte[] {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            new byte[] {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, new byte[] {(byte) 0xc1, (byte) 0xbf},
            new byte[] {0}, new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf});
    private static final List<String> CONTENT_TYPES = List.of("text/plain", "application/xml", "text/json",
            "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "multipart/form-data",
            "application/json; charset=utf-16", "application/json; charset=UTF-32BE", "application/json; charset=nonsense",
            "application/json; charset=", "application/json; charset=\"utf-8\"", "application/json;;;", "application/json; q=0",
            "application/problem+json", "application/*", "*/*", "*", "json", "/", "application/json-patch+json",
            "application/vnd.api+json", "APPLICATION/JSON", "application/json ; charset = utf-8", "image/png", "",
            "application/json, text/plain", "application/json; boundary=\"", "application/json; x=\"\\\"", "\"application/json\"");
    private static final List<String> ACCEPTS = List.of("image/png", "text/html", "application/xml", "*/*",
            "image/*;q=0", "application/json;q=0", "image/png;q=abc", "application/json;q=2", "text/event-stream",
            "application/problem+json", "image/jpeg", "image/png, application/json;q=0.9", "*/*;q=0", ",", ";", "*",
            "application/json;q=0.5;q=0.9", "image/png;q=1e1", "image/png;q=-1", "text/*", "\"image/png\"");
    private static final List<String> EMPTY_BODIES = List.of("", " ", "\n", "\r\n\r\n", "null", "[]", "{}", "\"\"", "0", "true",
            "[null]", "{}{}", "{\"prompt\":\"a cat\"}{", "{\"prompt\":\"a cat\",}", "{'prompt':'a cat'}", "{prompt:\"a cat\"}",
            "{\"prompt\":\"a cat\"} trailing", "/* comment */ {\"prompt\":\"a cat\"}", "\ufeff{\"prompt\":\"a\"}",
            "{\"prompt\":\"a cat\"", "{\"prompt\":\"a cat", "{\"prompt\":", "{\"", "{");
    private static final List<String> JOB_INDEXES = List.of("0", "1", "-1", "00", "+0", "%200", "0x0", "1e0", "2147483648",
            "99999999999999999999", "-0", "%00", "NaN", "", "0.0", "٠");
    private static final List<String> METHODS = List.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "PROPFIND", "FOO");
    private static final List<String> QUERY_NAMES = List.of("format", "prompt", "steps", "width", "n", "id", "async",
            "callback", "_method", "", "format[]");
    private static final List<String> QUERY_VALUES = List.of("png", "json", "image/png", "", "1", "-1", "true", "%00",
            "%ff", "x".repeat(4000));

    private final GenerationBodies bodies;
    private final String succeededJob;
    /** Ids that are not a job's, or are one's spelled wrongly. */
    private final List<String> oddJobIds;
    /** Every endpoint and some near misses. */
    private final List<String> paths;

    FuzzCases(ModelRules rules, String succeededJob) {
        this.bodies = new GenerationBodies(rules);
        this.succeededJob = succeededJob;
        this.oddJobIds = List.of("", ".", "..", "%2e%2e", "%2F", "a%2Fb", "%00", "%ff", "%e2%80%ae", "%C0%AF", "%25", "null",
                "undefined", "-1", "0", "%20", "a;b", ";jsessionid=1", "~", "*", "%5C", "%7B%7D", succeededJob.toUpperCase(),
                succeededJob + "%00", succeededJob + "/", "x".repeat(5000));
        this.paths = Stream.concat(Stream.of("/generate", "/v1/jobs", "/v1/model", "/v1/jobs/" + succeededJob,
                "/v1/jobs/" + succeededJob + "/events", "/v1/jobs/" + succeededJob + "/images/0", "/v1/models"),
                Stream.of("/generate/", "/v1/model/", "/v1/jobs/", "/GENERATE", "/v1//model", "/v1/./model", "/v2/jobs",
                "/v1/images/generations", "/v1/images/edits", "/sdapi/v1/txt2img", "/sdapi/v1/progress",
                "/sdapi/v1/interrupt", "/sdapi/v1/options", "/sdapi/v1/samplers", "/sdapi/v1/nothing")).toList();
    }

    /** One request of any category; the weights are those docs/RELIABILITY.md lists. */
    FuzzRequest next(FuzzRandom random) {
        return random.frequency(
                new Weighted<>(3, this::jsonTree),
                new Weighted<>(3, this::wrongType),
                new Weighted<>(3, this::extremeNumber),
                new Weighted<>(1, FuzzCases::hugeDocument),
                new Weighted<>(2, FuzzCases::invalidUtf8),
                new Weighted<>(2, this::unicodePrompt),
                new Weighted<>(2, this::contentType),
                new Weighted<>(1, FuzzCases::emptyBody),
                new Weighted<>(3, this::jobPath),
                new Weighted<>(2, this::method),
                new Weighted<>(2, this::query));
    }

    private FuzzRequest jsonTree(FuzzRandom random) {
        return FuzzRequest.postJson("json-tree", random.pick(BODY_ENDPOINTS), JsonText.tree(random, 4));
    }

    private FuzzRequest wrongType(FuzzRandom random) {
        return FuzzRequest.postJson("wrong-type", random.pick(BODY_ENDPOINTS), JsonText.object(bodies.oneWrongType(random)));
    }

    private FuzzRequest extremeNumber(FuzzRandom random) {
        return FuzzRequest.postJson("extreme-number", random.pick(BODY_ENDPOINTS), JsonText.object(bodies.oneExtremeNumber(random)));
    }

    /** Deep nesting (to 100,000 levels), long strings and numbers, many members, 8MB ± 1; half streamed without a length. */
    static FuzzRequest hugeDocument(FuzzRandom random) {
        String path = random.pick(BODY_ENDPOINTS);
        String body = random.coin() ? hugeJson(random) : padded(LIMIT + random.pick(-1, 0, 1));
        FuzzRequest request = FuzzRequest.postJson("huge-document", path, body);
        return random.coin() ? request.chunkedBody() : request;
    }

    private static String hugeJson(FuzzRandom random) {
        int n = random.pick(100, 1_000, 10_000, 30_000, 60_000, 100_000);
        return switch (random.between(0, 6)) {
            case 0 -> "[".repeat(n) + "]".repeat(n);
            case 1 -> "{\"a\":".repeat(n) + "1" + "}".repeat(n);
            case 2 -> "{\"prompt\":\"a cat\",\"width\":" + "[".repeat(n) + "]".repeat(n) + "}";
            case 3 -> "{\"prompt\":" + JsonText.quote("a".repeat(n), true) + ",\"steps\":1,\"width\":4,\"height\":4}";
            case 4 -> "{\"prompt\":\"a cat\",\"seed\":" + "7".repeat(n) + "}";
            case 5 -> "{" + "\"prompt\":\"a cat\",".repeat(n / 17) + "\"steps\":1,\"width\":4,\"height\":4}";
            default -> "[" + "{},".repeat(n / 3) + "{}]";
        };
    }

    /** A small valid body padded with spaces to exactly {@code length} bytes. */
    private static String padded(int length) {
        String body = "{\"prompt\":\"a cat\",\"steps\":1,\"width\":4,\"height\":4}";
        return body.substring(0, body.length() - 1) + " ".repeat(length - body.length()) + "}";
    }

    /** Valid bodies whose prompt (or whole text) carries malformed UTF-8: stray, overlong, surrogate, truncated. */
    private static FuzzRequest invalidUtf8(FuzzRandom random) {
        String path = random.pick(BODY_ENDPOINTS);
        byte[] bad = random.pick(BAD_UTF8);
        byte[] head = VALID_HEAD.getBytes(StandardCharsets.US_ASCII);
        byte[] tail = VALID_TAIL.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        switch (random.between(0, 2)) {
            case 0 -> write(body, bad, head, tail);
            case 1 -> write(body, head, tail, bad);
            default -> write(body, head, bad, tail);
        }
        return FuzzRequest.post("invalid-utf8", path, "application/json", body.toByteArray());
    }

    private static void write(ByteArrayOutputStream out, byte[]... parts) {
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
    }

    /** Valid, cheap bodies whose prompts are made of Unicode edge cases, escaped or raw; these must generate. */
    private FuzzRequest unicodePrompt(FuzzRandom random) {
        String path = random.pick(BODY_ENDPOINTS);
        Map<String, String> body = bodies.valid(random);
        String text = random.coin()
                ? String.join("", random.list(1, 30, FuzzCases::unicodePiece))
                : unicodePiece(random).transform(piece -> ("a cat " + piece).repeat(2000 / (piece.length() + 6) + 1));
        String field = random.pick("prompt", "negative_prompt", "sampler");
        Map<String, String> changed = GenerationBodies.with(body, field, JsonText.quote(text, random.coin()));
        return FuzzRequest.post("unicode-prompt", path, "application/json", JsonText.object(changed).getBytes(StandardCharsets.UTF_8));
    }

    private static String unicodePiece(FuzzRandom random) {
        return random.oneOf(r -> r.pick(JsonText.UNICODE_EDGES), r -> String.valueOf(r.anyChar()),
                r -> r.string(FuzzRandom.LETTERS, 0, 8));
    }

    /** Valid or broken bodies under wrong, odd or missing Content-Type and Accept headers. */
    private FuzzRequest contentType(FuzzRandom random) {
        return random.oneOf(
                r -> FuzzRequest.post("content-type", r.pick(BODY_ENDPOINTS), oddHeader(r, CONTENT_TYPES), anyBody(r)),
                r -> FuzzRequest.post("content-type", r.pick(BODY_ENDPOINTS), null, anyBody(r)),
                r -> FuzzRequest.postJson("content-type", "/generate", JsonText.object(bodies.valid(r)))
                        .withHeader("Accept", oddHeader(r, ACCEPTS)),
                r -> r.oneOf(this::jobPath, this::method).withHeader("Accept", oddHeader(r, ACCEPTS)).inCategory("content-type"));
    }

    private static String oddHeader(FuzzRandom random, List<String> known) {
        return random.coin() ? random.pick(known) : random.printable(40);
    }

    private byte[] anyBody(FuzzRandom random) {
        String json = random.coin() ? JsonText.object(bodies.valid(random)) : JsonText.tree(random, 2);
        return json.getBytes(StandardCharsets.UTF_8);
    }

    private static FuzzRequest emptyBody(FuzzRandom random) {
        FuzzRequest request = FuzzRequest.postJson("empty-body", random.pick(BODY_ENDPOINTS), random.pick(EMPTY_BODIES));
        return random.coin() ? request.chunkedBody() : request;
    }

    /** GET and DELETE of jobs, their events and images, for real, unknown and malformed ids and indexes. */
    private FuzzRequest jobPath(FuzzRandom random) {
        String method = random.pick("GET", "GET", "GET", "DELETE");
        String id = random.oneOf(
                r -> succeededJob,
                r -> new UUID(r.anyLong(), r.anyLong()).toString(),
                r -> r.pick(oddJobIds),
                r -> percentEncoded(r.text(30)));
        String suffix = random.coin()
                ? random.pick("", "/events", "/", "/images", "/images/")
                : "/images/" + (random.coin() ? random.pick(JOB_INDEXES) : String.valueOf(random.anyInt()));
        return FuzzRequest.bodiless("job-path", method, "/v1/jobs/" + id + suffix);
    }

    /** Every endpoint under every method, with or without a body. */
    private FuzzRequest method(FuzzRandom random) {
        String method = random.pick(METHODS);
        String path = random.pick(paths);
        return random.coin()
                ? new FuzzRequest("method", method, path, List.of(new FuzzRequest.Header("Content-Type", "application/json")),
                        JsonText.object(bodies.valid(random)).getBytes(StandardCharsets.UTF_8), false)
                : FuzzRequest.bodiless("method", method, path);
    }

    /** Query parameters the API does not define (format=png among them), on every endpoint that takes input. */
    private FuzzRequest query(FuzzRandom random) {
        FuzzRequest request = random.oneOf(
                r -> FuzzRequest.postJson("query", r.pick(BODY_ENDPOINTS), JsonText.object(bodies.valid(r))),
                r -> FuzzRequest.bodiless("query", "GET", "/v1/model"),
                this::jobPath);
        List<String> parameters = random.list(1, 4, r -> {
            String name = r.coin() ? r.pick(QUERY_NAMES) : percentEncoded(r.text(10));
            String value = r.coin() ? r.pick(QUERY_VALUES) : percentEncoded(r.text(20));
            return name + r.pick("=", "", "==") + value;
        });
        return request.withPath(request.pathAndQuery() + "?" + String.join("&", parameters)).inCategory("query");
    }

    /** Every byte that is not unreserved in a URI as %XX of its UTF-8 (lone surrogates become '?'). */
    private static String percentEncoded(String text) {
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
