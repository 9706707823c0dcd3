package io.stipple.access;

/**
 * Whether this server asks for credentials, for the parts of the application that describe it (the API
 * description shows the security schemes and the 401 answers only when they apply).
 *
 * @param required API keys or a JWT issuer are configured
 * @param jwt      JWTs are accepted
 */
public record AccessMode(boolean required, boolean jwt) {
}
