package io.stipple.api;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.boot.tomcat.autoconfigure.TomcatServerProperties;
import org.springframework.stereotype.Component;
import org.springframework.web.multipart.MultipartHttpServletRequest;
import org.springframework.web.multipart.support.StandardServletMultipartResolver;
import org.springframework.web.servlet.DispatcherServlet;

/**
 * Spring MVC's multipart support over the bodies {@link RequestBodyLimits} has read: a form is bounded by
 * {@code stipple.limits.max-request-size} and {@code stipple.limits.body-timeout} like a JSON body, and
 * parsed from memory ({@link ReadFormRequest}) within Tomcat's limits on parts
 * ({@code server.tomcat.max-part-count}, {@code server.tomcat.max-part-header-size}). Spring Boot's own
 * multipart setup is off ({@code spring.servlet.multipart.enabled: false}): its limits would be a second,
 * smaller size cap, and Tomcat would parse from the connection under its per-read timeout alone.
 *
 * <p>Lazily: the form is parsed only by an endpoint that takes one, after its media type was checked, so a
 * multipart body sent elsewhere is a 415 and a malformed one (no boundary) a 400, never a parse failure
 * first.
 */
@Component(DispatcherServlet.MULTIPART_RESOLVER_BEAN_NAME)
class ReadFormResolver extends StandardServletMultipartResolver {
    private final long maxParts;
    private final int maxPartHeaderBytes;

    ReadFormResolver(TomcatServerProperties tomcat) {
        this.maxParts = tomcat.getMaxPartCount();
        this.maxPartHeaderBytes = (int) tomcat.getMaxPartHeaderSize().toBytes();
        setResolveLazily(true);
    }

    @Override
    public MultipartHttpServletRequest resolveMultipart(HttpServletRequest request) {
        return super.resolveMultipart(new ReadFormRequest(request, maxParts, maxPartHeaderBytes));
    }
}
