package io.stipple.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.interactions.Actions;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The page's image-to-image controls in headless Chromium: an image chosen as a file, the strength slider,
 * and a mask painted with the brush (real pointer input). Each result is byte-for-byte what the API gives for
 * the same request, so the page sends the file's exact pixels and the strokes as the mask.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
@Timeout(90)
class WebPageImageTest {
    @RegisterExtension
    static final Browser browser = new Browser();

    @LocalServerPort
    int port;

    @TempDir
    Path files;

    private Path picture;

    @BeforeEach
    void openPage() throws IOException {
        browser.resize(1280, 900);
        browser.driver().get("http://localhost:" + port + "/");
        browser.await(d -> !browser.field("sampler").findElements(By.tagName("option")).isEmpty());
        picture = files.resolve("circle.png");
        ImageIO.write(redCircle(), "png", picture.toFile());
        browser.field("init_file").sendKeys(picture.toString());
        browser.await(d -> d.findElement(By.id("image-editor")).isDisplayed());
        browser.type("prompt", "a blue circle");
        browser.type("steps", "4");
        browser.field("random_seed").click();
        browser.type("seed", "7");
        browser.driver().executeScript("arguments[0].value = '0.6'; arguments[0].dispatchEvent(new Event('input'));",
                browser.field("strength"));
    }

    @Test
    void startsFromTheChosenImageAtTheChosenStrength() throws IOException {
        assertEquals("0.6", browser.driver().findElement(By.id("strength-value")).getText());
        assertEquals("64", browser.field("width").getDomProperty("value"), "the request takes the image's size");
        browser.driver().findElement(By.id("submit")).click();
        WebElement card = browser.awaitCards(1).get(0);

        byte[] fromApi = new StippleHttp(port).generatePng(StippleHttp.body("prompt", "a blue circle", "steps", 4,
                "seed", 7, "width", 64, "height", 64, "strength", 0.6, "init_image", base64(Files.readAllBytes(picture))));
        assertArrayEquals(fromApi, browser.pngOf(card), "the page's result is the API's for the same image and strength");

        browser.driver().findElement(By.id("remove-image")).click();
        card.findElement(By.className("rerun")).click();
        assertArrayEquals(fromApi, browser.pngOf(browser.awaitCards(2).get(0)),
                "Re-run starts from the image its result came from, not from the form's");
    }

    @Test
    void repaintsWhereTheBrushWentAndKeepsTheRest() throws IOException {
        browser.field("brush").click();
        browser.driver().executeScript("arguments[0].value = '32';", browser.field("brush_size"));
        WebElement canvas = browser.driver().findElement(By.id("mask-canvas"));
        int side = canvas.getSize().getWidth();
        // Two strokes down the right half, from the canvas's centre (Selenium's origin) outwards.
        Actions strokes = new Actions(browser.driver());
        for (int x : new int[] {side / 8, 3 * side / 8}) {
            strokes.moveToElement(canvas, x, -side / 2 + 2).clickAndHold().moveByOffset(0, side - 4).release();
        }
        strokes.perform();
        String mask = (String) browser.driver().executeScript("return maskImage();");
        browser.driver().findElement(By.id("submit")).click();
        WebElement card = browser.awaitCards(1).get(0);
        byte[] result = browser.pngOf(card);

        byte[] fromApi = new StippleHttp(port).generatePng(StippleHttp.body("prompt", "a blue circle", "steps", 4,
                "seed", 7, "width", 64, "height", 64, "strength", 0.6, "init_image", base64(Files.readAllBytes(picture)),
                "mask_image", mask));
        assertArrayEquals(fromApi, result, "the page sends its strokes as the mask");
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(result));
        BufferedImage original = redCircle();
        int changedOnTheRight = 0;
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 16; x++) {
                assertEquals(original.getRGB(x, y), image.getRGB(x, y), "pixel " + x + "," + y + " left of the strokes");
            }
            for (int x = 48; x < 64; x++) {
                changedOnTheRight += original.getRGB(x, y) != image.getRGB(x, y) ? 1 : 0;
            }
        }
        assertTrue(changedOnTheRight > 0, "the painted half was repainted");
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }


    private static BufferedImage redCircle() {
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        graphics.setColor(new Color(0xF5F5F5));
        graphics.fillRect(0, 0, 64, 64);
        graphics.setColor(new Color(0xD71E1E));
        graphics.fillOval(12, 20, 24, 24);
        graphics.dispose();
        return image;
    }
}
