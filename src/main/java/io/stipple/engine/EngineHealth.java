package io.stipple.engine;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Part of readiness: the model is loaded (or the context would not exist), the worker has run it once at the
 * default size, and it is alive.
 */
@Component("engine")
class EngineHealth implements HealthIndicator {
    private final GenerationService service;

    EngineHealth(GenerationService service) {
        this.service = service;
    }

    @Override
    public Health health() {
        if (service.ready()) {
            return Health.up().build();
        }
        return Health.down().withDetail("worker", service.warmingUp() ? "warming up" : "not running").build();
    }
}
