package io.stipple;

import java.time.InstantSource;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Bean;

@SpringBootApplication
@ConfigurationPropertiesScan
public class StippleApplication {
    public static void main(String[] args) {
        SpringApplication.run(StippleApplication.class, args);
    }

    /** The clock that client quotas refill by: one bean, so that a test can move time instead of waiting for it. */
    @Bean
    InstantSource clock() {
        return InstantSource.system();
    }
}
