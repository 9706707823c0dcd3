package io.stipple.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.util.MimeTypeUtils;

/** What {@code POST /generate} answers with, chosen from the Accept header by quality and specificity. */
enum ResponseFormat {
    JSON,
    PNG;

    static ResponseFormat negotiate(String accept) {
        if (accept == null || accept.isBlank()) {
            return JSON;
        }
        List<MediaType> accepted;
        try {
            accepted = new ArrayList<>(MediaType.parseMediaTypes(accept));
        } catch (InvalidMediaTypeException e) {
            throw new NotAcceptableException("The Accept header cannot be parsed: " + e.getMessage());
        }
        MimeTypeUtils.sortBySpecificity(accepted);
        accepted.sort(Comparator.comparingDouble(MediaType::getQualityValue).reversed());
        for (MediaType type : accepted) {
            if (type.getQualityValue() == 0) {
                continue;
            }
            if (type.isCompatibleWith(MediaType.APPLICATION_JSON)) {
                return JSON;
            }
            if (type.isCompatibleWith(MediaType.IMAGE_PNG)) {
                return PNG;
            }
        }
        throw new NotAcceptableException("POST /generate answers with application/json or image/png; Accept was \""
                + accept + "\"");
    }

    /** Nothing the client accepts can be produced. */
    static final class NotAcceptableException extends RuntimeException {
        NotAcceptableException(String message) {
            super(message);
        }
    }
}
