package io.stipple.access;

import io.stipple.config.StippleProperties;
import jakarta.servlet.http.HttpServletRequest;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpHeaders;
import org.springframework.security.authentication.AuthenticationManager;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.core.Authentication;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationProvider;
import org.springframework.security.oauth2.server.resource.web.BearerTokenResolver;
import org.springframework.security.oauth2.server.resource.web.DefaultBearerTokenResolver;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.web.servlet.HandlerExceptionResolver;

/**
 * Who may call what. Off unless API keys ({@code stipple.security.*}) or a JWT issuer
 * ({@code spring.security.oauth2.resourceserver.jwt.*}) are configured; then generating, the jobs, the
 * model description and the metrics need a key or a token, sent as {@code Authorization: Bearer} or
 * {@code X-API-Key}. The web page, the API description and the health probes stay open: the page must
 * load to ask for a key, and an orchestrator's probes carry none.
 *
 * <p>No sessions and no cookies: every request carries its credential, so there is nothing for a
 * cross-site request to ride on and CSRF protection has nothing to protect.
 */
@Configuration(proxyBeanMethods = false)
class AccessControl {
    static final String API_KEY_HEADER = "X-API-Key";
    private static final Logger log = LoggerFactory.getLogger(AccessControl.class);
    private static final String[] OPEN = {"/", "/index.html", "/app.js", "/app.css", "/favicon.ico",
            "/swagger-ui.html", "/swagger-ui/**", "/v3/api-docs", "/v3/api-docs/**",
            "/actuator/health", "/actuator/health/**", "/actuator/info", "/error"};

    @Bean
    ApiKeys apiKeys(StippleProperties properties) {
        return ApiKeys.from(properties.security());
    }

    @Bean
    AccessMode accessMode(ApiKeys keys, ObjectProvider<JwtDecoder> jwtDecoder) {
        boolean jwt = jwtDecoder.getIfAvailable() != null;
        return new AccessMode(!keys.isEmpty() || jwt, jwt);
    }

    @Bean
    SecurityFilterChain accessRules(HttpSecurity http, AccessMode mode, ApiKeys keys, ObjectProvider<JwtDecoder> jwtDecoder,
            StippleProperties properties, HandlerExceptionResolver handlerExceptionResolver) throws Exception {
        http.csrf(AbstractHttpConfigurer::disable)
                .sessionManagement(sessions -> sessions.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .requestCache(AbstractHttpConfigurer::disable)
                .cors(Customizer.withDefaults());
        JwtDecoder jwt = jwtDecoder.getIfAvailable();
        if (!mode.required()) {
            log.warn("ACCESS CONTROL IS OFF: anyone who can reach this server may generate images. Configure "
                    + "stipple.security.api-keys, stipple.security.api-keys-file or a JWT issuer (docs/deployment.md)");
            return http.authorizeHttpRequests(requests -> requests.anyRequest().permitAll()).build();
        }
        log.info("Access control is on: {} API key(s){}; the web page, API description and health probes are open",
                keys.size(), jwt == null ? "" : " and JWTs");
        ProblemEntryPoint entryPoint = new ProblemEntryPoint(handlerExceptionResolver);
        boolean prometheusOpen = !properties.security().protectPrometheus();
        return http
                .authorizeHttpRequests(requests -> requests
                        .requestMatchers(OPEN).permitAll()
                        .requestMatchers("/actuator/prometheus").access((authentication, context) ->
                                new AuthorizationDecision(prometheusOpen || authenticated(authentication.get())))
                        .anyRequest().authenticated())
                .oauth2ResourceServer(resourceServer -> resourceServer
                        .bearerTokenResolver(bearerOrApiKey())
                        .authenticationManagerResolver(request -> authenticator(keys, jwt))
                        .authenticationEntryPoint(entryPoint))
                .exceptionHandling(handling -> handling.authenticationEntryPoint(entryPoint))
                .build();
    }

    private static boolean authenticated(Authentication authentication) {
        return authentication != null && authentication.isAuthenticated()
                && !(authentication instanceof AnonymousAuthenticationToken);
    }

    /**
     * {@code X-API-Key} if sent, else the {@code Authorization: Bearer} credential, else the password of
     * {@code Authorization: Basic} (AUTOMATIC1111 clients authenticate as user:password; the user is not
     * looked at). Never a query parameter, which logs would keep.
     */
    private static BearerTokenResolver bearerOrApiKey() {
        DefaultBearerTokenResolver bearer = new DefaultBearerTokenResolver();
        return (HttpServletRequest request) -> {
            String apiKey = request.getHeader(API_KEY_HEADER);
            if (apiKey != null) {
                return apiKey;
            }
            String authorization = request.getHeader(HttpHeaders.AUTHORIZATION);
            if (authorization != null && authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
                return basicPassword(authorization.substring(6).strip());
            }
            return bearer.resolve(request);
        };
    }

    /** The password of Basic credentials; none (null) for empty or malformed ones, as clients send them unset. */
    private static String basicPassword(String encoded) {
        try {
            String credentials = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
            int colon = credentials.indexOf(':');
            String password = colon < 0 ? "" : credentials.substring(colon + 1);
            return password.isEmpty() ? null : password;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** A credential that is a known API key names its client; anything else must be a valid JWT, when JWTs are on. */
    private static AuthenticationManager authenticator(ApiKeys keys, JwtDecoder jwt) {
        JwtAuthenticationProvider tokens = jwt == null ? null : new JwtAuthenticationProvider(jwt);
        return authentication -> {
            String credential = ((BearerTokenAuthenticationToken) authentication).getToken();
            var client = keys.clientOf(credential);
            if (client.isPresent()) {
                return new ApiKeyAuthentication(client.get());
            }
            if (tokens == null) {
                throw new InvalidBearerTokenException("The API key is not valid");
            }
            return tokens.authenticate(authentication);
        };
    }
}
