package io.stipple.reliability;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * One generated HTTP request: what the fuzzer sends, and what a failure report shows. {@code chunked}
 * sends the body without a Content-Length, as a client streaming it would.
 */
public record FuzzRequest(String category, String method, String pathAndQuery, List<Header> headers, byte[] body,
        boolean chunked) {
    /** How much of a path and of a body a report shows. */
    private static final int SHOWN = 300;

    public record Header(String name, String value) {
        @Override
        public String toString() {
            return name + ": " + value;
        }
    }

    static FuzzRequest post(String category, String path, String contentType, byte[] body) {
        List<Header> headers = contentType == null ? List.of() : List.of(new Header("Content-Type", contentType));
        return new FuzzRequest(category, "POST", path, headers, body, false);
    }

    static FuzzRequest postJson(String category, String path, String json) {
        return post(category, path, "application/json", json.getBytes(StandardCharsets.UTF_8));
    }

    static FuzzRequest bodiless(String category, String method, String path) {
        return new FuzzRequest(category, method, path, List.of(), null, false);
    }

    FuzzRequest withHeader(String name, String value) {
        List<Header> more = new ArrayList<>(headers);
        more.removeIf(header -> header.name().equalsIgnoreCase(name));
        more.add(new Header(name, value));
        return new FuzzRequest(category, method, pathAndQuery, List.copyOf(more), body, chunked);
    }

    FuzzRequest chunkedBody() {
        return new FuzzRequest(category, method, pathAndQuery, headers, body, true);
    }

    FuzzRequest withPath(String newPathAndQuery) {
        return new FuzzRequest(category, method, newPathAndQuery, headers, body, chunked);
    }

    FuzzRequest inCategory(String newCategory) {
        return new FuzzRequest(newCategory, method, pathAndQuery, headers, body, chunked);
    }

    /** The request as a person reads it: non-printable and non-ASCII bytes of the body as \xNN, long paths and bodies cut. */
    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("[" + category + "] " + method + " ");
        if (pathAndQuery.length() > SHOWN) {
            text.append(pathAndQuery, 0, SHOWN).append("… (").append(pathAndQuery.length()).append(" characters)");
        } else {
            text.append(pathAndQuery);
        }
        text.append(" ").append(headers);
        if (body != null) {
            text.append(chunked ? " chunked body of " : " body of ").append(body.length).append(" bytes: ");
            for (int i = 0; i < Math.min(body.length, SHOWN); i++) {
                int b = body[i] & 0xff;
                text.append(b >= 0x20 && b < 0x7f ? String.valueOf((char) b) : String.format("\\x%02x", b));
            }
            if (body.length > SHOWN) {
                text.append("…");
            }
        }
        return text.toString();
    }
}
