package io.stipple.web;

import static org.junit.jupiter.api.Assumptions.abort;

import java.io.File;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium from the system's packages ({@code chromium} and {@code chromium-driver} on Debian),
 * driven through its own chromedriver so that Selenium never tries to download one.
 *
 * <p>Without those packages the browser tests are skipped, so that {@code mvn test} runs with only a JDK
 * and Maven; CI installs them and sets {@value #REQUIRED} so that a missing browser fails instead.
 */
final class Browser implements BeforeAllCallback, AfterAllCallback {
    static final String REQUIRED = "STIPPLE_BROWSER_REQUIRED";

    /** One browser per test class: {@code @RegisterExtension static final Browser browser = new Browser();} */
    private ChromeDriver driver;

    @Override
    public void beforeAll(ExtensionContext context) {
        driver = start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (driver != null) {
            driver.quit();
        }
    }

    private static ChromeDriver start() {
        File chromium = executable("STIPPLE_CHROMIUM", "/usr/bin/chromium");
        File chromedriver = executable("STIPPLE_CHROMEDRIVER", "/usr/bin/chromedriver");
        ChromeOptions options = new ChromeOptions()
                .setBinary(chromium)
                // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                        "--window-size=1280,900");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(chromedriver).build();
        return new ChromeDriver(service, options);
    }

    private static File executable(String variable, String fallback) {
        String path = System.getenv().getOrDefault(variable, fallback);
        File file = new File(path);
        if (!file.canExecute()) {
            String message = path + " not found: install Debian's chromium and chromium-driver (or set " + variable + ")";
            if (System.getenv(REQUIRED) != null) {
                throw new IllegalStateException(message);
            }
            abort(message);
        }
        return file;
    }

    ChromeDriver driver() {
        return driver;
    }

    void resize(int width, int height) {
        driver.executeCdpCommand("Emulation.clearDeviceMetricsOverride", Map.of());
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** A phone's viewport: desktop Chromium will not make its window narrower than about 500 pixels. */
    void emulatePhone(int width, int height) {
        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", width, "height", height, "deviceScaleFactor", 2, "mobile", true));
    }

    /** The page's form field of that name. */
    WebElement field(String name) {
        return driver.findElement(By.name(name));
    }

    void type(String name, String text) {
        WebElement field = field(name);
        field.clear();
        field.sendKeys(text);
    }

    /** Waits until the gallery holds {@code count} images, all loaded; newest first. */
    List<WebElement> awaitCards(int count) {
        return await(d -> {
            List<WebElement> cards = d.findElements(By.cssSelector("#gallery figure"));
            boolean loaded = cards.size() == count
                    && cards.stream().allMatch(card -> naturalWidth(card.findElement(By.tagName("img"))) > 0);
            return loaded ? cards : null;
        });
    }

    long naturalWidth(WebElement image) {
        return ((Number) driver.executeScript("return arguments[0].complete ? arguments[0].naturalWidth : 0;", image))
                .longValue();
    }

    /** The bytes behind a gallery card's download link, read back from the page's blob. */
    byte[] pngOf(WebElement card) {
        String base64 = (String) driver.executeAsyncScript("""
                const [link, done] = arguments;
                fetch(link.href).then(r => r.arrayBuffer()).then(buffer => {
                  let binary = '';
                  for (const b of new Uint8Array(buffer)) binary += String.fromCharCode(b);
                  done(btoa(binary));
                });
                """, card.findElement(By.className("download")));
        return Base64.getDecoder().decode(base64);
    }

    <T> T await(Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, Duration.ofSeconds(20), Duration.ofMillis(20)).until(condition);
    }
}
