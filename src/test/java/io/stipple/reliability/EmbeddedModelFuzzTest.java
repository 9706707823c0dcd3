package io.stipple.reliability;

import io.stipple.StippleApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Fuzzes the application in this JVM with the settings it ships with: the embedded default model and no
 * properties but a free port. {@code ShippedJarFuzzIT} runs the same property against the packaged jar.
 */
class EmbeddedModelFuzzTest extends HttpApiFuzzing {
    private static ConfigurableApplicationContext application;
    private static FuzzTarget target;

    @BeforeAll
    static void start() {
        application = new SpringApplicationBuilder(StippleApplication.class).properties("server.port=0").run();
        target = FuzzTarget.connect(Integer.parseInt(application.getEnvironment().getRequiredProperty("local.server.port")));
    }

    @AfterAll
    static void stop() {
        if (application != null) {
            application.close();
        }
    }

    @Override
    protected FuzzTarget target() {
        return target;
    }
}
