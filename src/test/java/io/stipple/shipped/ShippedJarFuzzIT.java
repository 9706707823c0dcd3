package io.stipple.shipped;

import io.stipple.reliability.FuzzTarget;
import io.stipple.reliability.HttpApiFuzzing;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/** The API fuzzing property against the packaged jar, started as users start it (no settings). */
class ShippedJarFuzzIT extends HttpApiFuzzing {
    private static ShippedJar jar;
    private static FuzzTarget target;

    @BeforeContainer
    static void start() throws Exception {
        jar = ShippedJar.start();
        target = FuzzTarget.connect(jar.port);
    }

    @AfterContainer
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
