package io.stipple.engine;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/** Part of readiness: the model is loaded (or the context would not exist) and the worker is alive. */
@Component("engine")
class EngineHealth implements HealthIndicator {
    private final GenerationService service;

    EngineHealth(GenerationService service) {
        this.service = service;
    }

    @Override
    public Health health() {
        return service.ready() ? Health.up().build() : Health.down().withDetail("worker", "not running").build();
    }
}
