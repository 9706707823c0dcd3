package io.stipple.api;

import static io.stipple.testing.StippleHttp.assertProblem;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.StippleApplication;
import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A form ({@code curl -F}) is held to {@code stipple.limits.max-request-size} like a JSON body: the one
 * setting raises and lowers both. Each test starts the server with its own limit and sends the same form,
 * larger than the 8MB default: an init image of noise, which PNG cannot compress.
 */
class FormSizeLimitTest {
    private static final String BOUNDARY = "stipple-form-boundary";
    private static byte[] form;

    @BeforeAll
    static void buildTheForm() throws IOException {
        BufferedImage noise = new BufferedImage(1800, 1800, BufferedImage.TYPE_INT_RGB);
        Random random = new Random(17);
        for (int y = 0; y < noise.getHeight(); y++) {
            for (int x = 0; x < noise.getWidth(); x++) {
                noise.setRGB(x, y, random.nextInt(0x1000000));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String[] field : new String[][] {{"prompt", "a red circle"}, {"steps", "2"}, {"strength", "0.5"}}) {
            out.write(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + field[0] + "\"\r\n\r\n"
                    + field[1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        out.write(("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"init_image\"; filename=\"noise.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        ImageIO.write(noise, "png", out);
        out.write(("\r\n--" + BOUNDARY + "--\r\n").getBytes(StandardCharsets.UTF_8));
        form = out.toByteArray();
        assertTrue(form.length > 9_000_000 && form.length < 12_000_000, "the form is " + form.length + " bytes");
    }

    @Test
    void aLargerMaxRequestSizeAdmitsALargerForm() {
        try (ConfigurableApplicationContext server = start("16MB")) {
            HttpResponse<byte[]> answer = post(server);
            assertEquals(200, answer.statusCode(), () -> new String(answer.body()));
            assertEquals(1, StippleHttp.json(answer).get("images").size());
        }
    }

    @Test
    void aSmallerMaxRequestSizeRefusesItWith413() {
        try (ConfigurableApplicationContext server = start("4MB")) {
            assertProblem(post(server), 413, null, "larger than the limit of 4194304 bytes");
        }
    }

    private static ConfigurableApplicationContext start(String maxRequestSize) {
        return new SpringApplicationBuilder(StippleApplication.class).properties("server.port=0",
                "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
                "stipple.limits.max-request-size=" + maxRequestSize).run();
    }

    private static HttpResponse<byte[]> post(ConfigurableApplicationContext server) {
        StippleHttp http = new StippleHttp(Integer.parseInt(server.getEnvironment().getProperty("local.server.port")));
        return http.send(http.request("/generate").header("Content-Type", "multipart/form-data; boundary=" + BOUNDARY)
                .POST(BodyPublishers.ofByteArray(form)).build());
    }
}
