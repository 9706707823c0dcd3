package io.stipple.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.stipple.config.StippleProperties;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading the API keys: inline or from a file of hashes, each malformed entry refused with its place named. */
class ApiKeysTest {
    /** {@code printf %s "alpha" | sha256sum} */
    private static final String ALPHA_SHA256 = "8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8";

    @TempDir
    Path directory;

    private static StippleProperties.Security security(List<StippleProperties.ApiKey> keys, Path file) {
        return new StippleProperties.Security(keys, file, false);
    }

    private Path file(String text) throws IOException {
        return Files.writeString(directory.resolve("api-keys"), text);
    }

    @Test
    void hashesMatchSha256sum() {
        assertEquals(ALPHA_SHA256, ApiKeys.sha256("alpha"));
    }

    @Test
    void namesTheClientOfEachKeyFromTheConfigurationAndTheFile() throws IOException {
        ApiKeys keys = ApiKeys.from(security(
                List.of(new StippleProperties.ApiKey("frontend", "beta", null),
                        new StippleProperties.ApiKey("batch", null, ALPHA_SHA256.toUpperCase())),
                file("# client  sha256 of its key\n\nbot " + ApiKeys.sha256("gamma") + "   # rotated monthly\n"
                        + "bot " + ApiKeys.sha256("delta") + "\n")));
        assertEquals(4, keys.size());
        assertEquals(Optional.of("frontend"), keys.clientOf("beta"));
        assertEquals(Optional.of("batch"), keys.clientOf("alpha"));
        assertEquals(Optional.of("bot"), keys.clientOf("gamma"));
        assertEquals(Optional.of("bot"), keys.clientOf("delta"));
        assertEquals(Optional.empty(), keys.clientOf("alpha "));
        assertEquals(Optional.empty(), keys.clientOf(ALPHA_SHA256), "the hash itself is not a key");
    }

    @Test
    void refusesMalformedEntriesNamingWhere() throws IOException {
        Path file = file("ok " + ALPHA_SHA256 + "\nbroken\n");
        assertEquals(file + " line 2 must read \"<client name> <sha256 hex of the key>\"",
                assertThrows(IllegalArgumentException.class, () -> ApiKeys.from(security(List.of(), file))).getMessage());

        Path shortHash = file("bot abc123\n");
        assertEquals(shortHash + " line 1: the hash must be 64 hex digits (printf %s \"$KEY\" | sha256sum)",
                assertThrows(IllegalArgumentException.class, () -> ApiKeys.from(security(List.of(), shortHash)))
                        .getMessage());

        assertEquals("stipple.security.api-keys[0] needs exactly one of key and sha256",
                assertThrows(IllegalArgumentException.class, () -> ApiKeys.from(security(
                        List.of(new StippleProperties.ApiKey("both", "alpha", ALPHA_SHA256)), null))).getMessage());

        assertEquals("stipple.security.api-keys[1]: the client name must be 1 to 64 letters, digits or ._@:-",
                assertThrows(IllegalArgumentException.class, () -> ApiKeys.from(security(List.of(
                        new StippleProperties.ApiKey("fine", "one", null),
                        new StippleProperties.ApiKey("not fine", "two", null)), null))).getMessage());

        Path twice = file("bot " + ALPHA_SHA256 + "\n");
        assertEquals(twice + " line 1: the same key is configured for \"frontend\" already",
                assertThrows(IllegalArgumentException.class, () -> ApiKeys.from(security(
                        List.of(new StippleProperties.ApiKey("frontend", "alpha", null)), twice))).getMessage());
    }

    @Test
    void aMissingFileStopsStartupNamed() {
        Path missing = directory.resolve("nowhere");
        assertEquals("stipple.security.api-keys-file " + missing + " cannot be read",
                assertThrows(RuntimeException.class, () -> ApiKeys.from(security(List.of(), missing))).getMessage());
    }
}
