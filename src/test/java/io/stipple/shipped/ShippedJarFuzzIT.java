package io.stipple.shipped;

import io.stipple.reliability.FuzzTarget;
import io.stipple.reliability.HttpApiFuzzing;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The API fuzzing property against the packaged jar, started as users start it (no settings). */
class ShippedJarFuzzIT extends HttpApiFuzzing {
    private static ShippedJar jar;
    private static FuzzTarget target;

    @BeforeAll
    static void start() throws Exception {
        jar = ShippedJar.start();
        target = FuzzTarget.connect(jar.port);
    }

    @AfterAll
    static void stop() throws Exception {
        if (jar != null) {
            jar.close();
        }
    }

    @Override
    protected FuzzTarget target() {
        return target;
    }
}
