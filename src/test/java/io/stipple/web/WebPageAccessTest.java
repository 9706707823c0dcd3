package io.stipple.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The page at {@code /} in headless Chromium against a server that needs an API key: it asks once, keeps
 * the key in the browser's storage and sends it on every call, the job's event stream included (the
 * generated image only appears once that stream has said the job succeeded).
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.security.api-keys[0].name=web",
        "stipple.security.api-keys[0].key=" + WebPageAccessTest.KEY})
@Timeout(90)
class WebPageAccessTest {
    static final String KEY = "page-key-5b1f0c";

    @RegisterExtension
    static final Browser browser = new Browser();

    @LocalServerPort
    int port;

    @Test
    void asksForTheKeyOnceKeepsItAndSendsItOnEveryCall() {
        browser.driver().get("http://localhost:" + port + "/");
        browser.driver().executeScript("localStorage.clear(); location.reload();");

        WebElement dialog = awaitDialog();
        assertTrue(dialog.getText().contains("This server needs an API key"), dialog.getText());
        answer("not-the-key");
        dialog = awaitDialog();
        assertTrue(dialog.getText().contains("The key was refused: The API key is not valid"), dialog.getText());
        answer(KEY);
        browser.await(d -> d.findElement(By.id("model")).getText().contains("tiny-fixture"));

        browser.type("prompt", "a red circle");
        browser.type("steps", "4");
        browser.driver().findElement(By.id("submit")).click();
        browser.awaitCards(1);
        assertEquals(KEY, browser.driver().executeScript("return localStorage.getItem('stipple.apiKey');"));

        browser.driver().navigate().refresh();
        browser.await(d -> d.findElement(By.id("model")).getText().contains("tiny-fixture"));
        assertTrue(!browser.driver().findElement(By.id("key-dialog")).isDisplayed(), "a kept key is not asked for again");

        WebElement forget = browser.driver().findElement(By.id("forget-key"));
        forget.click();
        browser.driver().navigate().refresh();
        awaitDialog();
    }

    private WebElement awaitDialog() {
        return browser.await(d -> {
            WebElement dialog = d.findElement(By.id("key-dialog"));
            return dialog.isDisplayed() && !dialog.findElement(By.className("key-reason")).getText().isEmpty() ? dialog : null;
        });
    }

    private void answer(String key) {
        WebElement input = browser.field("api_key");
        input.clear();
        input.sendKeys(key);
        browser.driver().findElement(By.cssSelector("#key-dialog button[type=submit]")).click();
        browser.await(d -> !d.findElement(By.id("key-dialog")).isDisplayed()
                || !d.findElement(By.className("key-reason")).getText().isEmpty());
    }
}
