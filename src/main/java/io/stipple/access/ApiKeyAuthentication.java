package io.stipple.access;

import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.authority.AuthorityUtils;

/** A caller who presented a valid API key; its name is the key's client. */
final class ApiKeyAuthentication extends AbstractAuthenticationToken {
    private final String client;

    ApiKeyAuthentication(String client) {
        super(AuthorityUtils.NO_AUTHORITIES);
        this.client = client;
        setAuthenticated(true);
    }

    @Override
    public Object getCredentials() {
        return null;
    }

    @Override
    public Object getPrincipal() {
        return client;
    }
}
