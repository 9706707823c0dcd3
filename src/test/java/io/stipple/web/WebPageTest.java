package io.stipple.web;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.stipple.testing.StippleHttp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.databind.JsonNode;

/**
 * The page at {@code /} in headless Chromium against the real server on the tiny fixture.
 *
 * <p>With {@code stipple.batch.max-rows=2} one guided image fills the batch and {@code queue.capacity=1}
 * lets one more job wait: a long job (150 steps at 512×512) then keeps the next one queued and turns
 * the third away with 429, without racing the fast tiny model.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.batch.max-rows=2",
        "stipple.queue.capacity=1",
        "stipple.preview.every=1"})
@Timeout(90)
class WebPageTest {
    private static final String PROMPT = "a red circle on a blue background";
    private static final Pattern STEP = Pattern.compile("Step (\\d+) of 150");

    @RegisterExtension
    static final Browser browser = new Browser();

    @LocalServerPort
    int port;

    @BeforeEach
    void openPage() {
        browser.resize(1280, 900);
        driver().get(url("/"));
        browser.await(d -> !field("sampler").findElements(By.tagName("option")).isEmpty());
    }

    @Test
    void showsTheModelWithItsDefaultsAndSamplers() {
        JsonNode model = StippleHttp.json(new StippleHttp(port).get("/v1/model"));
        assertEquals("Stipple", driver().getTitle());
        String label = driver().findElement(By.id("model")).getText();
        assertTrue(label.contains("tiny-fixture") && label.contains("cpu"), label);

        List<String> samplers = new ArrayList<>();
        model.get("samplers").forEach(name -> samplers.add(name.asString()));
        List<String> options = field("sampler").findElements(By.tagName("option")).stream()
                .map(option -> option.getAttribute("value")).toList();
        assertEquals(samplers, options);

        JsonNode defaults = model.get("defaults");
        assertEquals(defaults.get("sampler").asString(), value("sampler"));
        assertEquals(defaults.get("steps").asInt(), Integer.parseInt(value("steps")));
        assertEquals(defaults.get("guidance_scale").asDouble(), Double.parseDouble(value("guidance_scale")));
        assertEquals(defaults.get("width").asInt(), Integer.parseInt(value("width")));
        assertEquals(defaults.get("height").asInt(), Integer.parseInt(value("height")));
        assertTrue(field("seed").getAttribute("disabled") != null, "the seed is random by default");
    }

    @Test
    void generatesAnImageThatMatchesTheApiAndReRunsIt() {
        type("prompt", PROMPT);
        field("random_seed").click();
        type("seed", "42");
        submit();

        WebElement card = awaitCards(1).get(0);
        assertEquals(64L, naturalWidth(card.findElement(By.tagName("img"))));
        String meta = card.findElement(By.className("card-meta")).getText();
        assertTrue(meta.startsWith("seed 42 · ddim · 20 steps · guidance 5 · 64×64 · "), meta);
        assertEquals(PROMPT, card.findElement(By.className("card-prompt")).getText());
        WebElement download = card.findElement(By.className("download"));
        assertEquals("stipple-42.png", download.getAttribute("download"));
        assertTrue(download.getAttribute("href").startsWith("blob:"), download.getAttribute("href"));

        byte[] fromApi = new StippleHttp(port).generatePng(StippleHttp.body("prompt", PROMPT, "seed", 42));
        assertArrayEquals(fromApi, browser.pngOf(card), "the page shows the server's PNG for the same request");
        assertTrue(driver().findElements(By.className("job")).isEmpty(), "the finished job's card is gone");

        card.findElement(By.className("rerun")).click();
        WebElement rerun = awaitCards(2).get(0);
        assertTrue(rerun.findElement(By.className("card-meta")).getText().startsWith("seed 42 · "));
        assertArrayEquals(fromApi, browser.pngOf(rerun), "re-running reproduces the image");
        assertEquals("42", value("seed"), "re-run puts the image's seed into the form");
    }

    @Test
    void followsALongJobWithProgressAndPreviewsAndCancelsIt() {
        startLongJob();
        WebElement job = driver().findElement(By.className("job"));
        int step = awaitStep(job);
        assertTrue(step >= 1 && step < 150, "step " + step);
        WebElement bar = job.findElement(By.tagName("progress"));
        assertEquals("150", bar.getAttribute("max"));
        assertTrue(Integer.parseInt(bar.getAttribute("value")) >= 1);
        WebElement preview = job.findElement(By.className("preview"));
        browser.await(d -> preview.isDisplayed() && preview.getAttribute("src").startsWith("data:image/png;base64,"));

        job.findElement(By.className("cancel")).click();
        browser.await(d -> job.findElement(By.className("job-status")).getText().equals("Cancelled"));
        assertTrue(!bar.isDisplayed(), "an ended job hides its progress bar");
        WebElement dismiss = job.findElement(By.className("cancel"));
        assertEquals("Dismiss", dismiss.getText());
        dismiss.click();
        assertTrue(driver().findElements(By.className("job")).isEmpty());
        assertTrue(driver().findElements(By.cssSelector("#gallery figure")).isEmpty());
    }

    @Test
    void explainsEveryValidationError() {
        type("prompt", " ");
        type("width", "100");
        type("steps", "0");
        submit();

        WebElement errors = browser.await(d -> {
            WebElement box = d.findElement(By.id("errors"));
            return box.isDisplayed() ? box : null;
        });
        String text = errors.getText();
        assertTrue(text.startsWith("Invalid request"), text);
        assertTrue(text.contains("width must be a positive multiple of 8 (the model's size multiple), got 100"), text);
        assertTrue(text.contains("prompt"), text);
        assertTrue(text.contains("steps"), text);
        for (String name : List.of("prompt", "width", "steps")) {
            assertEquals("true", field(name).getAttribute("aria-invalid"), name);
        }
        assertEquals(null, field("height").getAttribute("aria-invalid"));
        assertTrue(driver().findElements(By.className("job")).isEmpty(), "a rejected request leaves no job");

        type("prompt", PROMPT);
        type("width", "64");
        type("steps", "2");
        submit();
        awaitCards(1);
        assertTrue(!driver().findElement(By.id("errors")).isDisplayed(), "a good request clears the errors");
        assertEquals(null, field("width").getAttribute("aria-invalid"));
    }

    @Test
    void saysWhenTheQueueIsFullAndWhenToRetry() {
        startLongJob();
        awaitStep(driver().findElement(By.className("job")));
        submit();
        browser.await(d -> d.findElements(By.className("job")).size() == 2);
        WebElement queued = driver().findElements(By.className("job")).get(0);
        browser.await(d -> queued.findElement(By.className("job-status")).getText().equals("Queued, position 1"));

        submit();
        WebElement errors = browser.await(d -> {
            WebElement box = d.findElement(By.id("errors"));
            return box.isDisplayed() ? box : null;
        });
        assertTrue(errors.getText().startsWith("The server is busy"), errors.getText());
        assertTrue(Pattern.compile("Try again in \\d+ s\\.").matcher(errors.getText()).find(), errors.getText());
        assertEquals(2, driver().findElements(By.className("job")).size(), "the refused job adds no card");

        for (WebElement job : driver().findElements(By.className("job"))) {
            job.findElement(By.className("cancel")).click();
        }
        browser.await(d -> d.findElements(By.className("job-status")).stream()
                .allMatch(status -> status.getText().equals("Cancelled")));
    }

    @Test
    void fitsAPhoneScreen() {
        browser.emulatePhone(390, 844);
        type("prompt", PROMPT);
        type("steps", "2");
        submit();
        WebElement card = awaitCards(1).get(0);

        Map<?, ?> layout = (Map<?, ?>) js().executeScript("""
                const form = document.getElementById('generate').getBoundingClientRect();
                const results = document.querySelector('.results').getBoundingClientRect();
                const page = document.documentElement;
                return {overflow: page.scrollWidth - page.clientWidth,
                        stacked: results.top >= form.bottom, width: window.innerWidth};
                """);
        assertEquals(390L, ((Number) layout.get("width")).longValue(), "the phone's viewport: " + layout);
        assertEquals(0L, ((Number) layout.get("overflow")).longValue(), "no horizontal scrolling: " + layout);
        assertEquals(true, layout.get("stacked"), "the gallery goes below the form: " + layout);
        assertTrue(card.getSize().getWidth() >= 150, "cards stay readable: " + card.getSize());
    }

    // --- helpers -------------------------------------------------------------------------------------

    private ChromeDriver driver() {
        return browser.driver();
    }

    private JavascriptExecutor js() {
        return driver();
    }

    private String url(String path) {
        return "http://localhost:" + port + path;
    }

    private WebElement field(String name) {
        return browser.field(name);
    }

    private String value(String name) {
        return field(name).getDomProperty("value");
    }

    private void type(String name, String text) {
        browser.type(name, text);
    }

    private void submit() {
        driver().findElement(By.id("submit")).click();
    }

    private void startLongJob() {
        type("prompt", PROMPT);
        type("steps", "150");
        type("width", "512");
        type("height", "512");
        submit();
    }

    private int awaitStep(WebElement job) {
        return browser.await(d -> {
            Matcher matcher = STEP.matcher(job.findElement(By.className("job-status")).getText());
            return matcher.matches() && Integer.parseInt(matcher.group(1)) >= 1 ? Integer.parseInt(matcher.group(1)) : null;
        });
    }

    private List<WebElement> awaitCards(int count) {
        return browser.awaitCards(count);
    }

    private long naturalWidth(WebElement image) {
        return browser.naturalWidth(image);
    }

}
