package io.stipple.api;

import io.stipple.config.StippleProperties;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UnsupportedEncodingException;
import java.net.SocketTimeoutException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * Reads every request body in full before the application sees it, within two limits: its size
 * ({@code stipple.limits.max-request-size}, else 413, at once when Content-Length says so) and the time it
 * takes to arrive ({@code stipple.limits.body-timeout}, else 408).
 *
 * <p>Why the time limit: HTTP threads are a fixed pool, and Tomcat's only read limit is per read (its
 * connection timeout), so a client that sends a byte every few seconds would hold a thread for hours.
 * Why read up front, even on endpoints that ignore the body: after answering, Tomcat drains an unread body
 * under that same per-read limit alone. Forms ({@code multipart/form-data}) are read the same way, then
 * parsed from memory ({@link ReadFormResolver}), so one size limit and one time limit hold for every body.
 * A refused body is answered with a status that makes Tomcat close the connection rather than drain it
 * (server.tomcat.max-swallow-size is 0: Tomcat drains a refused body otherwise, and a trickling client
 * would hold the thread through the drain).
 */
@Component
class RequestBodyLimits extends OncePerRequestFilter {
    private final long limit;
    private final Duration timeout;
    private final HandlerExceptionResolver resolver;

    RequestBodyLimits(StippleProperties properties, HandlerExceptionResolver handlerExceptionResolver) {
        this.limit = properties.limits().maxRequestSize().toBytes();
        this.timeout = properties.limits().bodyTimeout();
        this.resolver = handlerExceptionResolver;
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        if (request.getContentLengthLong() <= 0 && request.getHeader(HttpHeaders.TRANSFER_ENCODING) == null) {
            chain.doFilter(request, response);
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] body;
        try {
            body = read(request, deadline);
        } catch (RequestTooLargeException tooLarge) {
            refuseTooLarge(request, response, deadline);
            return;
        } catch (RequestBodyTimeoutException late) {
            resolver.resolveException(request, response, null, late);
            return;
        }
        chain.doFilter(new ReadRequest(request, body), response);
    }

    /**
     * 413, after reading what is left of the body within the body timeout: a client that writes its whole body
     * before reading the answer (most do) would otherwise meet a reset connection instead of the 413, since
     * Tomcat closes rather than drains (server.tomcat.max-swallow-size 0). A slow sender is still cut off at
     * the deadline.
     */
    private void refuseTooLarge(HttpServletRequest request, HttpServletResponse response, long deadline)
            throws IOException {
        byte[] buffer = new byte[65536];
        try {
            InputStream in = request.getInputStream();
            while (System.nanoTime() < deadline && in.read(buffer) >= 0) {
                // discarded
            }
        } catch (IOException e) {
            // The client gave up or went silent: the answer below may not reach it, and nothing else is owed.
        }
        resolver.resolveException(request, response, null, new RequestTooLargeException(limit));
    }

    private byte[] read(HttpServletRequest request, long deadline) throws IOException {
        if (request.getContentLengthLong() > limit) {
            throw new RequestTooLargeException(limit);
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        InputStream in = request.getInputStream();
        try {
            for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
                body.write(buffer, 0, n);
                if (body.size() > limit) {
                    throw new RequestTooLargeException(limit);
                }
                if (System.nanoTime() > deadline) {
                    throw new RequestBodyTimeoutException(timeout);
                }
            }
        } catch (IOException e) {
            // Tomcat reports a read that waited out its connection timeout as a client abort caused by it.
            if (causedBy(e, SocketTimeoutException.class)) {
                throw new RequestBodyTimeoutException(timeout);
            }
            throw e;
        }
        return body.toByteArray();
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (type.isInstance(cause)) {
                return true;
            }
        }
        return false;
    }

    /** The request with its body already read: the application reads it from memory. */
    private static final class ReadRequest extends HttpServletRequestWrapper {
        private final byte[] body;

        ReadRequest(HttpServletRequest request, byte[] body) {
            super(request);
            this.body = body;
        }

        @Override
        public ServletInputStream getInputStream() {
            return new ReadBody(new ByteArrayInputStream(body));
        }

        @Override
        public BufferedReader getReader() throws UnsupportedEncodingException {
            String encoding = getCharacterEncoding();
            Charset charset;
            try {
                charset = encoding == null ? StandardCharsets.ISO_8859_1 : Charset.forName(encoding);
            } catch (IllegalArgumentException unknown) {
                throw new UnsupportedEncodingException(encoding);
            }
            return new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), charset));
        }
    }

    private static final class ReadBody extends ServletInputStream {
        private final ByteArrayInputStream in;

        ReadBody(ByteArrayInputStream in) {
            this.in = in;
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            return in.read(buffer, offset, length);
        }

        @Override
        public boolean isFinished() {
            return in.available() == 0;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new UnsupportedOperationException("the body has been read already; read it blocking");
        }
    }
}
