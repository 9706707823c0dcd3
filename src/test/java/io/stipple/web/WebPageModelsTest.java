package io.stipple.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/** The page's model selector in headless Chromium, on a server with the embedded models and two fixtures. */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny",
        "stipple.models[0]=src/test/resources/pipelines/tiny-guidance-embedded"})
@Timeout(90)
class WebPageModelsTest {
    private static final String PROMPT = "a red circle on a blue background";

    @RegisterExtension
    static final Browser browser = new Browser();

    @LocalServerPort
    int port;

    @BeforeEach
    void openPage() {
        browser.resize(1280, 900);
        browser.driver().get("http://localhost:" + port + "/");
        browser.await(d -> !browser.field("model").findElements(By.tagName("option")).isEmpty());
    }

    @Test
    void offersEveryModelAndTakesTheChosenOnesDefaults() {
        JsonNode served = StippleHttp.json(new StippleHttp(port).get("/v1/models"));
        List<String> names = served.get("models").valueStream().map(model -> model.get("name").asString()).toList();
        Select select = new Select(browser.field("model"));
        assertEquals(names, select.getOptions().stream().map(option -> option.getAttribute("value")).toList());
        assertEquals(served.get("default").asString(), select.getFirstSelectedOption().getAttribute("value"));

        select.selectByValue("stipple-shapes");
        JsonNode shapes = StippleHttp.json(new StippleHttp(port).get("/v1/models/stipple-shapes")).get("defaults");
        assertEquals(shapes.get("steps").asInt(), Integer.parseInt(value("steps")));
        assertEquals(shapes.get("guidance_scale").asDouble(), Double.parseDouble(value("guidance_scale")));
        assertTrue(browser.driver().findElement(By.id("model")).getText().startsWith("stipple-shapes · "));
        assertNull(browser.field("negative_prompt").getAttribute("disabled"));

        select.selectByValue("tiny-guidance-embedded-probe");
        assertNotNull(browser.field("negative_prompt").getAttribute("disabled"),
                "a guidance-embedded model takes no negative prompt");
    }

    @Test
    void generatesWithTheChosenModelAndReRunsWithIt() {
        new Select(browser.field("model")).selectByValue("stipple-shapes");
        browser.type("prompt", PROMPT);
        browser.field("random_seed").click();
        browser.type("seed", "7");
        browser.driver().findElement(By.id("submit")).click();

        WebElement card = browser.awaitCards(1).get(0);
        String meta = card.findElement(By.className("card-meta")).getText();
        assertTrue(meta.endsWith(" · stipple-shapes"), meta);
        byte[] fromApi = new StippleHttp(port).generatePng(
                StippleHttp.body("prompt", PROMPT, "seed", 7, "model", "stipple-shapes"));
        assertArrayEquals(fromApi, browser.pngOf(card), "the page shows the chosen model's image");

        new Select(browser.field("model")).selectByValue("tiny-fixture");
        card.findElement(By.className("rerun")).click();
        assertEquals("stipple-shapes", new Select(browser.field("model")).getFirstSelectedOption().getAttribute("value"),
                "re-run puts the image's model back into the form");
        assertArrayEquals(fromApi, browser.pngOf(browser.awaitCards(2).get(0)), "re-running reproduces the image");
    }

    private String value(String name) {
        return browser.field(name).getDomProperty("value");
    }
}
