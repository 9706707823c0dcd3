package io.stipple.access;

import io.stipple.config.StippleProperties;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The API keys this server accepts, each standing for a named client. Only SHA-256 hashes are kept, so
 * neither memory nor the keys file holds a usable key: a presented key is hashed and looked up.
 *
 * <p>Keys come from {@code stipple.security.api-keys} (each a name and either the key or its hash, for
 * secrets handed over as environment variables) and from {@code stipple.security.api-keys-file}, whose
 * lines read {@code <client name> <sha256 hex>}; {@code #} starts a comment. A client may have several
 * keys, so that keys can be rotated without downtime.
 */
public final class ApiKeys {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:-]{1,64}");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    private final Map<String, String> clientsByHash;

    private ApiKeys(Map<String, String> clientsByHash) {
        this.clientsByHash = Map.copyOf(clientsByHash);
    }

    /** Reads and checks the configured keys; a malformed entry stops startup, named. */
    public static ApiKeys from(StippleProperties.Security security) {
        Map<String, String> clients = new HashMap<>();
        List<StippleProperties.ApiKey> inline = security.apiKeys();
        for (int i = 0; i < inline.size(); i++) {
            StippleProperties.ApiKey entry = inline.get(i);
            String where = "stipple.security.api-keys[" + i + "]";
            if ((entry.key() == null) == (entry.sha256() == null)) {
                throw new IllegalArgumentException(where + " needs exactly one of key and sha256");
            }
            String hash = entry.key() != null ? sha256(entry.key()) : entry.sha256().toLowerCase();
            add(clients, where, entry.name(), hash);
        }
        if (security.apiKeysFile() != null) {
            readFile(security.apiKeysFile(), clients);
        }
        return new ApiKeys(clients);
    }

    private static void readFile(Path file, Map<String, String> clients) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("stipple.security.api-keys-file " + file + " cannot be read", e);
        }
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).replaceFirst("#.*", "").strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            String[] fields = line.split("\\s+");
            if (fields.length != 2) {
                throw new IllegalArgumentException(where + " must read \"<client name> <sha256 hex of the key>\"");
            }
            add(clients, where, fields[0], fields[1].toLowerCase());
        }
    }

    private static void add(Map<String, String> clients, String where, String name, String hash) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(where + ": the client name must be 1 to 64 letters, digits or ._@:-");
        }
        if (!SHA256.matcher(hash).matches()) {
            throw new IllegalArgumentException(where + ": the hash must be 64 hex digits (printf %s \"$KEY\" | sha256sum)");
        }
        String previous = clients.putIfAbsent(hash, name);
        if (previous != null) {
            throw new IllegalArgumentException(where + ": the same key is configured for \"" + previous + "\" already");
        }
    }

    static String sha256(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("Every Java platform has SHA-256", e);
        }
    }

    /** The client a presented key stands for. */
    public Optional<String> clientOf(String presentedKey) {
        return Optional.ofNullable(clientsByHash.get(sha256(presentedKey)));
    }

    public boolean isEmpty() {
        return clientsByHash.isEmpty();
    }

    public int size() {
        return clientsByHash.size();
    }
}
