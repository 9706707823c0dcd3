package io.stipple.testing;

import static org.junit.jupiter.api.Assumptions.abort;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Third-party Node.js clients the compatibility tests drive: each lives in src/test/resources/clients/NAME
 * with a package.json that pins its packages, installed once into target/clients/NAME from the npm registry.
 *
 * <p>Without {@code node} and {@code npm} the tests are skipped, so that {@code mvn verify} runs with only a
 * JDK and Maven; CI installs them and sets {@value #REQUIRED}, which fails them instead.
 */
public final class NodeClients {
    static final String REQUIRED = "STIPPLE_NODE_REQUIRED";

    private NodeClients() {
    }

    /** Runs {@code node SCRIPT ARGS} in the client's directory and returns its standard output; fails on a non-zero exit. */
    public static String run(String client, String script, String... arguments) throws IOException, InterruptedException {
        Path directory = install(client);
        List<String> command = new ArrayList<>(List.of("node", script));
        command.addAll(List.of(arguments));
        return execute(directory, command, 120);
    }

    private static Path install(String client) throws IOException, InterruptedException {
        if (!onPath("node") || !onPath("npm")) {
            String message = "node and npm not found: install Debian's nodejs and npm to run the " + client + " tests";
            if (System.getenv(REQUIRED) != null) {
                throw new IllegalStateException(message);
            }
            abort(message);
        }
        Path source = Path.of("src/test/resources/clients", client);
        Path target = Path.of("target/clients", client);
        Files.createDirectories(target);
        try (Stream<Path> files = Files.list(source)) {
            for (Path file : files.toList()) {
                Files.copy(file, target.resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (!Files.isDirectory(target.resolve("node_modules"))) {
            execute(target, List.of("npm", "install", "--no-audit", "--no-fund", "--loglevel=error"), 300);
        }
        return target;
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "");
        return Stream.of(path.split(File.pathSeparator)).anyMatch(dir -> Files.isExecutable(Path.of(dir, program)));
    }

    private static String execute(Path directory, List<String> command, int timeoutSeconds)
            throws IOException, InterruptedException {
        Path output = Files.createTempFile("node-client", ".out");
        Path errors = Files.createTempFile("node-client", ".err");
        Process process = new ProcessBuilder(command).directory(directory.toFile())
                .redirectOutput(output.toFile()).redirectError(errors.toFile()).start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish in " + timeoutSeconds + " s");
        }
        String stdout = Files.readString(output, StandardCharsets.UTF_8);
        String stderr = Files.readString(errors, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new AssertionError(command + " exited with " + process.exitValue() + ":\n" + stderr + stdout);
        }
        return stdout;
    }
}
