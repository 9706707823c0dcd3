package io.stipple.access;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;

/**
 * Who is calling, as the engine's quotas and fair queuing count clients: {@code key:<name>} for an API
 * key, {@code token:<subject>} for a JWT, and {@code address:<ip>} when access control is off, so that
 * callers are still told apart as well as the network allows.
 */
public final class ClientIdentity {
    private ClientIdentity() {
    }

    public static String of(HttpServletRequest request) {
        Authentication authentication = SecurityContextHolder.getContext().getAuthentication();
        if (authentication instanceof ApiKeyAuthentication key) {
            return "key:" + key.getName();
        }
        if (authentication instanceof JwtAuthenticationToken token) {
            return "token:" + token.getName();
        }
        return "address:" + request.getRemoteAddr();
    }

    /** Whether a job submitted by {@code owner} may be read or cancelled by {@code caller}. */
    public static boolean mayAccess(String caller, String owner) {
        return owner.startsWith("address:") || owner.equals(caller);
    }
}
