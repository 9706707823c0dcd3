package io.stipple.api;

import static io.stipple.testing.StippleHttp.assertProblem;
import static io.stipple.testing.StippleHttp.body;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** {@code init_image}, {@code strength} and {@code mask_image} over real HTTP on the tiny fixture: what is accepted, and every refusal. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class ImageToImageApiTest {
    @LocalServerPort
    int port;

    private StippleHttp http;

    @BeforeEach
    void connect() {
        http = new StippleHttp(port);
    }

    private static String encoded(BufferedImage image, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(image, format, out);
            return Base64.getEncoder().encodeToString(out.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static BufferedImage gradient(int width, int height) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                image.setRGB(x, y, (x * 255 / width) << 16 | (y * 255 / height) << 8 | 0x40);
            }
        }
        return image;
    }

    @Test
    void takesItsSizeFromTheImageAndIsReproducible() {
        String png = encoded(gradient(50, 41), "png");
        String request = body("prompt", "a red circle", "steps", 4, "seed", 3, "init_image", png, "strength", 0.5);
        JsonNode first = http.generateJson(request);
        JsonNode image = first.get("images").get(0);
        assertEquals(48, image.get("width").asInt(), "50 rounded down to the fixture's multiple of 8");
        assertEquals(40, image.get("height").asInt());
        assertArrayEquals(StippleHttp.png(image), StippleHttp.png(http.generateJson(request).get("images").get(0)));

        JsonNode sized = http.generateJson(body("prompt", "a red circle", "steps", 4, "width", 32, "height", 64,
                "init_image", "data:image/jpeg;base64," + encoded(gradient(50, 41), "jpeg"),
                "mask_image", "data:image/png;base64," + encoded(gradient(50, 41), "png")));
        assertEquals(32, sized.get("images").get(0).get("width").asInt(), "resized to the size asked for");
    }

    /** What {@code curl -F prompt=... -F strength=0.5 -F init_image=@image.png} sends. */
    @Test
    void takesAFormWithTheImageAsAFile() throws IOException {
        String boundary = "stipple-form-boundary";
        ByteArrayOutputStream form = new ByteArrayOutputStream();
        for (String[] field : new String[][] {{"prompt", "a red circle"}, {"steps", "4"}, {"seed", "3"}, {"strength", "0.5"}}) {
            form.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + field[0] + "\"\r\n\r\n"
                    + field[1] + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        form.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"init_image\"; filename=\"image.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        form.write(Base64.getDecoder().decode(encoded(gradient(50, 41), "png")));
        form.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        java.net.http.HttpResponse<byte[]> response = http.send(http.request("/generate")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(form.toByteArray())).build());
        assertEquals(200, response.statusCode(), new String(response.body()));
        JsonNode fromForm = StippleHttp.json(response).get("images").get(0);
        JsonNode fromJson = http.generateJson(body("prompt", "a red circle", "steps", 4, "seed", 3, "strength", 0.5,
                "init_image", encoded(gradient(50, 41), "png"))).get("images").get(0);
        assertArrayEquals(StippleHttp.png(fromJson), StippleHttp.png(fromForm), "the form is the JSON body");

        assertProblem(http.send(http.request("/v1/jobs").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("--" + boundary
                        + "\r\nContent-Disposition: form-data; name=\"steps\"\r\n\r\nmany\r\n--" + boundary + "--\r\n"))
                .build()), 400, "steps", "steps must be a number, got \"many\"");
    }

    @Test
    void refusesWhatItCannotUseNamingTheField() {
        String png = encoded(gradient(16, 16), "png");
        assertProblem(http.generate(body("prompt", "x", "init_image", "not base64 at all!")), 400, "init_image",
                "init_image is not valid base64");
        assertProblem(http.generate(body("prompt", "x", "init_image", encoded(gradient(16, 16), "gif"))), 400,
                "init_image", "init_image must be a PNG or JPEG image, got GIF");
        assertProblem(http.generate(body("prompt", "x", "init_image",
                Base64.getEncoder().encodeToString("plain text".getBytes(StandardCharsets.UTF_8)))), 400,
                "init_image", "init_image must be a PNG or JPEG image");
        assertProblem(http.generate(body("prompt", "x", "init_image", "data:image/png," + png)), 400, "init_image",
                "init_image is a data URL without ;base64");
        assertProblem(http.generate(body("prompt", "x", "init_image", pngHeaderOnly(5000, 5000))), 400, "init_image",
                "init_image is 5000 × 5000 pixels; at most 16777216 pixels are accepted");
        assertProblem(http.generate(body("prompt", "x", "strength", 0.5)), 400, "strength",
                "strength applies only with init_image");
        assertProblem(http.generate(body("prompt", "x", "mask_image", png)), 400, "mask_image",
                "mask_image applies only with init_image");
        assertProblem(http.generate(body("prompt", "x", "init_image", png, "strength", 1.5)), 400, "strength",
                "strength must be between 0 and 1, got 1.5");
        assertProblem(http.generate(body("prompt", "x", "init_image", png, "mask_image",
                encoded(gradient(16, 8), "png"))), 400, "mask_image",
                "mask_image is 16 × 8 but init_image is 16 × 16; they must be the same size");
    }

    /** A PNG signature and header that claim {@code width} × {@code height}, with no pixels behind them. */
    private static String pngHeaderOnly(int width, int height) {
        ByteBuffer header = ByteBuffer.allocate(13).putInt(width).putInt(height).put(new byte[] {8, 2, 0, 0, 0});
        ByteBuffer png = ByteBuffer.allocate(8 + 25 + 12);
        png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", header.array());
        chunk(png, "IEND", new byte[0]);
        return Base64.getEncoder().encodeToString(png.array());
    }

    private static void chunk(ByteBuffer png, String type, byte[] data) {
        CRC32 crc = new CRC32();
        crc.update(type.getBytes(StandardCharsets.US_ASCII));
        crc.update(data);
        png.putInt(data.length).put(type.getBytes(StandardCharsets.US_ASCII)).put(data).putInt((int) crc.getValue());
    }
}
