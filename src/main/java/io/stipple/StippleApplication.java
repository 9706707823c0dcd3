package io.stipple;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class StippleApplication {
    public static void main(String[] args) {
        SpringApplication.run(StippleApplication.class, args);
    }
}
