package io.stipple.deploy;

import static io.stipple.deploy.Deployables.ROOT;
import static io.stipple.deploy.Deployables.assertBindsToRealProperties;
import static io.stipple.deploy.Deployables.at;
import static io.stipple.deploy.Deployables.exportedSeries;
import static io.stipple.deploy.Deployables.file;
import static io.stipple.deploy.Deployables.lazyCounters;
import static io.stipple.deploy.Deployables.metricNames;
import static io.stipple.deploy.Deployables.pom;
import static io.stipple.deploy.Deployables.pomProjectValue;
import static io.stipple.deploy.Deployables.pomProperty;
import static io.stipple.deploy.Deployables.read;
import static io.stipple.deploy.Deployables.serverPort;
import static io.stipple.deploy.Deployables.shutdownPhaseTimeout;
import static io.stipple.deploy.Deployables.stippleProperties;
import static io.stipple.deploy.Deployables.yamlMap;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import com.fasterxml.jackson.databind.JsonNode;
import io.stipple.config.StippleProperties;
import io.stipple.config.DeviceSetting;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What can be checked of docker/ without a Docker engine: the Dockerfiles build from files that exist and
 * are in the build context, produce the jar pom.xml names, run unprivileged, probe an endpoint the server
 * answers and set variables the application binds; compose.yaml, Prometheus and Grafana fit together and
 * the dashboard only queries metrics the server exports.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class DockerFilesTest {
    private static final String CPU = "docker/Dockerfile";
    private static final String CUDA = "docker/Dockerfile.cuda";

    @LocalServerPort
    int port;

    // ---- a Dockerfile, parsed ----

    record Instruction(String keyword, String arguments) {
    }

    record Stage(String image, String name, List<Instruction> instructions) {
        List<Instruction> all(String keyword) {
            return instructions.stream().filter(instruction -> instruction.keyword().equals(keyword)).toList();
        }

        int indexOf(String keyword, String containing) {
            for (int i = 0; i < instructions.size(); i++) {
                if (instructions.get(i).keyword().equals(keyword) && instructions.get(i).arguments().contains(containing)) {
                    return i;
                }
            }
            return -1;
        }

        /** The ENV variables of this stage in order, later values winning. */
        Map<String, String> environment() {
            Map<String, String> environment = new LinkedHashMap<>();
            for (Instruction env : all("ENV")) {
                for (String assignment : words(env.arguments())) {
                    int equals = assignment.indexOf('=');
                    assertTrue(equals > 0, () -> "ENV " + env.arguments() + ": use NAME=value");
                    environment.put(assignment.substring(0, equals), assignment.substring(equals + 1));
                }
            }
            return environment;
        }

        Map<String, String> args() {
            Map<String, String> args = new LinkedHashMap<>();
            for (Instruction arg : all("ARG")) {
                String[] parts = arg.arguments().split("=", 2);
                args.put(parts[0], parts.length > 1 ? parts[1] : null);
            }
            return args;
        }
    }

    record Dockerfile(Map<String, String> globalArgs, List<Stage> stages) {
        Stage last() {
            return stages.get(stages.size() - 1);
        }

        Stage stage(String name) {
            return stages.stream().filter(stage -> name.equals(stage.name())).findFirst()
                    .orElseThrow(() -> new AssertionError("no stage " + name));
        }
    }

    /** Lines joined at trailing backslashes, comments dropped, split into stages at FROM. */
    static Dockerfile parse(String relative) {
        List<String> logical = new ArrayList<>();
        StringBuilder current = null;
        for (String line : read(file(relative)).split("\n")) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            boolean continues = trimmed.endsWith("\\");
            String content = continues ? trimmed.substring(0, trimmed.length() - 1).strip() : trimmed;
            current = current == null ? new StringBuilder(content) : current.append(' ').append(content);
            if (!continues) {
                logical.add(current.toString());
                current = null;
            }
        }
        assertTrue(current == null, relative + " ends inside a continued line");
        Map<String, String> globalArgs = new LinkedHashMap<>();
        List<Stage> stages = new ArrayList<>();
        for (String line : logical) {
            String[] parts = line.split("\\s+", 2);
            String keyword = parts[0].toUpperCase();
            String arguments = parts.length > 1 ? parts[1] : "";
            if (keyword.equals("FROM")) {
                String[] from = arguments.split("\\s+");
                String image = substitute(from[0], globalArgs);
                String name = from.length == 3 && from[1].equalsIgnoreCase("AS") ? from[2] : null;
                stages.add(new Stage(image, name, new ArrayList<>()));
            } else if (stages.isEmpty()) {
                assertEquals("ARG", keyword, relative + ": only ARG may precede the first FROM");
                String[] arg = arguments.split("=", 2);
                globalArgs.put(arg[0], arg.length > 1 ? arg[1] : "");
            } else {
                stages.get(stages.size() - 1).instructions().add(new Instruction(keyword, arguments));
            }
        }
        assertFalse(stages.isEmpty(), relative + " has no FROM");
        return new Dockerfile(globalArgs, stages);
    }

    private static String substitute(String text, Map<String, String> variables) {
        Matcher matcher = Pattern.compile("\\$\\{(\\w+)}").matcher(text);
        StringBuilder result = new StringBuilder();
        while (matcher.find()) {
            String value = variables.get(matcher.group(1));
            assertNotNull(value, "undefined build argument " + matcher.group(1));
            matcher.appendReplacement(result, Matcher.quoteReplacement(value));
        }
        return matcher.appendTail(result).toString();
    }

    /** Words split at blanks outside double quotes, quotes removed. */
    static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        Matcher matcher = Pattern.compile("(?:[^\\s\"]|\"[^\"]*\")+").matcher(text);
        while (matcher.find()) {
            words.add(matcher.group().replace("\"", ""));
        }
        return words;
    }

    // ---- .dockerignore ----

    static boolean ignoredByDockerignore(String path) {
        List<String> patterns = read(file(".dockerignore")).lines().map(String::strip)
                .filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
        for (String pattern : patterns) {
            assertFalse(pattern.startsWith("!"), "exceptions are not handled here: " + pattern);
            List<String> globs = new ArrayList<>(List.of(pattern.replaceFirst("^/", "")));
            if (pattern.startsWith("**/")) {
                globs.add(pattern.substring(3));
            }
            // A pattern that matches a directory excludes what is inside it.
            for (Path prefix = Path.of(path); prefix != null; prefix = prefix.getParent()) {
                for (String glob : globs) {
                    if (FileSystems.getDefault().getPathMatcher("glob:" + glob).matches(prefix)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Test
    void theDockerignoreKeepsBuildOutputOutAndTheSourcesIn() {
        assertTrue(ignoredByDockerignore("target"));
        assertTrue(ignoredByDockerignore(".git"));
        assertTrue(ignoredByDockerignore("target/stipple-0.1.0-SNAPSHOT.jar"));
        assertFalse(ignoredByDockerignore("pom.xml"));
        assertFalse(ignoredByDockerignore("src/main/java/io/stipple/StippleApplication.java"));
        assertFalse(ignoredByDockerignore("src/main/resources/stipple/default-model/unet.pt"));
    }

    // ---- both images ----

    @ParameterizedTest
    @ValueSource(strings = {CPU, CUDA})
    void copiedFilesExistInTheBuildContextOrComeFromAStage(String dockerfile) {
        Dockerfile parsed = parse(dockerfile);
        Set<String> stages = new HashSet<>();
        for (Stage stage : parsed.stages()) {
            for (Instruction copy : stage.all("COPY")) {
                List<String> words = words(copy.arguments());
                String from = words.stream().filter(word -> word.startsWith("--from=")).map(word -> word.substring(7))
                        .findFirst().orElse(null);
                List<String> sources = words.stream().filter(word -> !word.startsWith("--")).toList();
                sources = sources.subList(0, sources.size() - 1);
                assertFalse(sources.isEmpty(), () -> "COPY " + copy.arguments());
                if (from == null) {
                    for (String source : sources) {
                        assertTrue(Files.exists(ROOT.resolve(source)), () -> dockerfile + " copies " + source
                                + ", which is not in the repository");
                        assertFalse(ignoredByDockerignore(source), () -> dockerfile + " copies " + source
                                + ", which .dockerignore leaves out of the build context");
                    }
                } else if (!from.contains(":") && !from.contains("/")) {
                    String stageName = from;
                    assertTrue(stages.contains(stageName), () -> dockerfile + " copies from " + stageName
                            + ", which is no earlier stage");
                }
            }
            if (stage.name() != null) {
                stages.add(stage.name());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {CPU, CUDA})
    void theBuildStagePackagesTheJarPomXmlNames(String dockerfile) {
        Stage build = parse(dockerfile).stage("build");
        String jar = "target/" + pomProjectValue("artifactId") + "-" + pomProjectValue("version") + ".jar";
        List<Instruction> packaging = build.all("RUN").stream()
                .filter(run -> run.arguments().contains(" package")).toList();
        assertEquals(1, packaging.size(), "one mvn package");
        String run = packaging.get(0).arguments();
        assertTrue(run.contains("-DskipTests"), run);
        assertTrue(run.contains(jar), () -> dockerfile + " does not use " + jar + ", the jar pom.xml builds: " + run);
        // The dependency layer: pom.xml alone, resolved before the sources are copied.
        int pom = build.indexOf("COPY", "pom.xml");
        int offline = build.indexOf("RUN", "dependency:go-offline");
        int sources = build.indexOf("COPY", "src");
        assertTrue(pom >= 0 && pom < offline && offline < sources, "COPY pom.xml, go-offline, then COPY src");
        // The build image's JDK can compile for pom.xml's java.version.
        Matcher jdk = Pattern.compile("temurin-(\\d+)").matcher(build.image());
        assertTrue(jdk.find(), build.image());
        assertTrue(Integer.parseInt(jdk.group(1)) >= Integer.parseInt(pomProperty("java.version")), build.image());
    }

    @ParameterizedTest
    @ValueSource(strings = {CPU, CUDA})
    void theImageRunsAsANonRootUser(String dockerfile) {
        Stage last = parse(dockerfile).last();
        List<Instruction> users = last.all("USER");
        assertFalse(users.isEmpty(), dockerfile + ": the final stage sets no USER and runs as root");
        String user = users.get(users.size() - 1).arguments().split(":")[0];
        // Numeric, so that Kubernetes can verify runAsNonRoot.
        assertTrue(user.matches("\\d+"), dockerfile + ": USER " + user + " is not numeric");
        assertTrue(Integer.parseInt(user) != 0, dockerfile + ": USER is root");
        assertTrue(last.indexOf("USER", user) < last.indexOf("ENTRYPOINT", ""), "USER before ENTRYPOINT");
    }

    @ParameterizedTest
    @ValueSource(strings = {CPU, CUDA})
    void theHealthcheckProbesReadinessOnTheServersPort(String dockerfile) {
        Stage last = parse(dockerfile).last();
        List<Instruction> checks = last.all("HEALTHCHECK");
        assertEquals(1, checks.size(), dockerfile + ": one HEALTHCHECK");
        Matcher url = Pattern.compile("http://localhost:\\$\\{SERVER_PORT:-(\\d+)}(/[^\"\\s]*)")
                .matcher(checks.get(0).arguments());
        assertTrue(url.find(), () -> "unexpected HEALTHCHECK " + checks.get(0).arguments());
        Map<String, String> environment = last.environment();
        assertEquals(serverPort(environment), Integer.parseInt(url.group(1)), "the HEALTHCHECK's default port");
        assertEquals("/actuator/health/readiness", url.group(2));
        HttpResponse<String> answer = Deployables.get(port, url.group(2));
        assertEquals(200, answer.statusCode(), answer.body());
        assertTrue(answer.body().contains("\"UP\""), answer.body());
        // curl -f fails on 503 (not ready): the check must not be fooled into success by an error page.
        assertTrue(checks.get(0).arguments().contains("curl -f"), "curl without -f counts a 503 as healthy");
        assertEquals(List.of(String.valueOf(serverPort(environment))), last.all("EXPOSE").stream()
                .map(Instruction::arguments).toList(), "EXPOSE");
    }

    @ParameterizedTest
    @ValueSource(strings = {CPU, CUDA})
    void theEnvironmentSetsHugePagesDjlAndRealStippleSettings(String dockerfile) {
        Stage last = parse(dockerfile).last();
        Map<String, String> environment = last.environment();
        // What the server asks for at startup when a large model runs without it (docs/BENCHMARKS.md)...
        assertEquals("glibc.malloc.hugetlb=1", environment.get("GLIBC_TUNABLES"));
        // ...and no malloc thresholds: they keep freed gigabytes mapped, for no gain measured beyond noise.
        assertTrue(environment.keySet().stream().noneMatch(name -> name.startsWith("MALLOC_")), environment::toString);
        assertEquals("true", environment.get("DJL_OFFLINE"), "DJL downloads nothing at run time");
        assertTrue(environment.get("DJL_CACHE_DIR").startsWith("/"), "DJL_CACHE_DIR");
        assertBindsToRealProperties(environment, dockerfile);
        // The warm-up start fills DJL's cache and writes the CDS archive the entrypoint uses.
        int warmUp = last.indexOf("RUN", "spring.context.exit=onRefresh");
        assertTrue(warmUp >= 0, dockerfile + " does not start the application at build time");
        Matcher archive = Pattern.compile("-XX:ArchiveClassesAtExit=(\\S+)").matcher(last.instructions().get(warmUp).arguments());
        assertTrue(archive.find());
        String entrypoint = last.all("ENTRYPOINT").get(0).arguments();
        assertTrue(entrypoint.contains("-XX:SharedArchiveFile=" + archive.group(1)), entrypoint);
        assertTrue(entrypoint.contains("exec java"), "java must replace the shell to receive SIGTERM");
        assertTrue(entrypoint.contains("$JAVA_OPTS"), "JAVA_OPTS is not passed on");
        // The cache is filled before DJL_OFFLINE forbids downloads.
        assertTrue(warmUp < last.indexOf("ENV", "DJL_OFFLINE=true"), "DJL_OFFLINE before the warm-up");
    }

    // ---- the CUDA image ----

    @Test
    void theCudaImageLeavesTheCpuLibtorchOutAndFetchesTheMatchingCudaBuild() {
        Dockerfile cuda = parse(CUDA);
        for (Instruction run : cuda.stage("build").all("RUN")) {
            if (run.arguments().contains("mvn")) {
                assertTrue(run.arguments().contains("-Dcuda"), "mvn without -Dcuda: " + run.arguments());
            }
        }
        // -Dcuda deactivates the profile that adds the CPU libtorch.
        NodeList profiles = pom().getElementsByTagName("profile");
        boolean found = false;
        for (int i = 0; i < profiles.getLength(); i++) {
            Element profile = (Element) profiles.item(i);
            NodeList names = profile.getElementsByTagName("name");
            if (names.getLength() == 1 && names.item(0).getTextContent().trim().equals("!cuda")) {
                assertTrue(profile.getTextContent().contains("pytorch-native-cpu"));
                found = true;
            }
        }
        assertTrue(found, "pom.xml has no profile switched off by -Dcuda");

        Stage last = cuda.last();
        Map<String, String> environment = last.environment();
        assertEquals(pomProperty("libtorch.version"), environment.get("PYTORCH_VERSION"));
        assertEquals(pomProperty("djl.version"), last.args().get("DJL_VERSION"));
        String flavor = environment.get("PYTORCH_FLAVOR");
        // DJL extracts the JNI library of this flavour from pytorch-jni; DJL publishes no other CUDA one
        // for this libtorch.
        assertNotNull(getClass().getClassLoader().getResource("jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
                "pytorch-jni has no JNI library for " + flavor);
        // The base image's CUDA is the flavour's.
        Matcher base = Pattern.compile("nvidia/cuda:(\\d+)\\.(\\d+)\\.").matcher(last.image());
        assertTrue(base.find(), last.image());
        assertEquals("cu" + base.group(1) + base.group(2), flavor, "CUDA of " + last.image());
        // The warm-up checks that DJL fetched that flavour rather than falling back to the CPU build.
        String warmUp = last.instructions().get(last.indexOf("RUN", "spring.context.exit=onRefresh")).arguments();
        assertTrue(warmUp.contains("libtorch_cuda.so") && warmUp.contains("${DJL_VERSION}-libdjl_torch.so"), warmUp);
    }

    @Test
    void theCudaImageServesTheMountedPipelineOnTheGpu() {
        Stage last = parse(CUDA).last();
        Map<String, String> environment = last.environment();
        StippleProperties properties = stippleProperties(environment);
        assertEquals(DeviceSetting.GPU, properties.device());
        Path modelDir = properties.modelDir();
        assertNotNull(modelDir, "STIPPLE_MODEL_DIR");
        assertEquals(List.of(modelDir.getParent().toString()), last.all("VOLUME").stream().map(Instruction::arguments).toList());
        // The build-time start has no GPU and no mounted model: it must come before these settings.
        int warmUp = last.indexOf("RUN", "spring.context.exit=onRefresh");
        assertTrue(warmUp < last.indexOf("ENV", "STIPPLE_MODEL_DIR="), "STIPPLE_MODEL_DIR is set before the warm-up");
        assertTrue(warmUp < last.indexOf("ENV", "STIPPLE_DEVICE=gpu"), "STIPPLE_DEVICE=gpu is set before the warm-up");
        assertTrue(last.instructions().get(warmUp).arguments().contains("STIPPLE_DEVICE=cpu"));
        // The warm-up loads the embedded models; the server serves the mounted pipeline alone.
        assertFalse(properties.embeddedModels(), "the CUDA image also serves (and puts on the GPU) the embedded models");
        assertTrue(warmUp < last.indexOf("ENV", "STIPPLE_EMBEDDED_MODELS=false"), "the warm-up has no model to load");
    }

    @Test
    void theCpuImageServesTheEmbeddedModelsUnlessTold() {
        StippleProperties properties = stippleProperties(parse(CPU).last().environment());
        assertTrue(properties.embeddedModels(), "the CPU image serves the models in the jar");
        assertNull(properties.modelDir(), "the CPU image names no pipeline of its own");
    }

    // ---- compose, Prometheus, Grafana ----

    private static final Path DOCKER = ROOT.resolve("docker");

    @SuppressWarnings("unchecked")
    private static Map<String, Object> service(Map<String, Object> compose, String name) {
        return (Map<String, Object>) at(compose, "services", name);
    }

    /** The bind mounts of a compose service: container path to host path (resolved against docker/). */
    private static Map<String, Path> bindMounts(Map<String, Object> service, Set<String> namedVolumes) {
        Map<String, Path> mounts = new LinkedHashMap<>();
        if (!service.containsKey("volumes")) {
            return mounts;
        }
        for (Object volume : (List<?>) service.get("volumes")) {
            String[] parts = String.valueOf(volume).split(":");
            if (namedVolumes.contains(parts[0])) {
                continue;
            }
            assertTrue(parts[0].startsWith("."), () -> "bind mount from outside docker/: " + volume);
            Path host = DOCKER.resolve(parts[0]).normalize();
            assertTrue(Files.exists(host), () -> "compose.yaml mounts " + parts[0] + ", which does not exist");
            mounts.put(parts[1], host);
        }
        return mounts;
    }

    /** A compose service's environment map, values as strings. */
    private static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> environment = new LinkedHashMap<>();
        Object variables = service.get("environment");
        if (variables != null) {
            assertTrue(variables instanceof Map, "environment as a map");
            ((Map<?, ?>) variables).forEach((name, value) -> environment.put(String.valueOf(name), String.valueOf(value)));
        }
        return environment;
    }

    @Test
    void composeBuildsTheCpuImageAndMountsFilesThatExist() {
        Map<String, Object> compose = yamlMap(file("docker/compose.yaml"));
        Set<String> namedVolumes = ((Map<?, ?>) compose.get("volumes")).keySet().stream().map(String::valueOf)
                .collect(java.util.stream.Collectors.toSet());
        Map<?, ?> services = (Map<?, ?>) compose.get("services");
        assertEquals(Set.of("stipple", "prometheus", "grafana"), services.keySet());
        for (Object name : services.keySet()) {
            bindMounts(service(compose, (String) name), namedVolumes);
        }

        Map<String, Object> stipple = service(compose, "stipple");
        Path context = DOCKER.resolve(String.valueOf(at(stipple, "build", "context"))).normalize();
        assertEquals(ROOT, context, "the build context is the repository root");
        assertEquals(ROOT.resolve(CPU), context.resolve(String.valueOf(at(stipple, "build", "dockerfile"))));

        Map<String, String> environment = environment(stipple);
        assertBindsToRealProperties(environment, "compose.yaml");
        int serverPort = serverPort(environment);
        for (Object mapping : (List<?>) stipple.get("ports")) {
            String[] parts = String.valueOf(mapping).split(":");
            assertEquals(String.valueOf(serverPort), parts[parts.length - 1], "compose publishes the server's port");
        }
        // docker compose stop waits stop_grace_period before it kills: it must cover the drain.
        Duration grace = stippleProperties(environment).shutdown().grace();
        Duration stop = DurationStyle.detectAndParse(String.valueOf(stipple.get("stop_grace_period")));
        assertTrue(stop.compareTo(grace.plusSeconds(10).plus(shutdownPhaseTimeout())) >= 0,
                "stop_grace_period " + stop + " cuts the shutdown grace " + grace + " short");
    }

    @Test
    void prometheusScrapesTheServersMetricsEndpoint() {
        Map<String, Object> compose = yamlMap(file("docker/compose.yaml"));
        Map<String, Object> prometheus = service(compose, "prometheus");
        Map<String, Path> mounts = bindMounts(prometheus, Set.of("prometheus-data"));
        String configFile = ((List<?>) prometheus.get("command")).stream().map(String::valueOf)
                .filter(argument -> argument.startsWith("--config.file=")).findFirst().orElseThrow().substring(14);
        Path config = mounts.get(configFile);
        assertEquals(file("docker/prometheus/prometheus.yml"), config, "the mounted configuration");

        Map<String, Object> scrapeConfig = yamlMap(config);
        List<?> jobs = (List<?>) scrapeConfig.get("scrape_configs");
        assertEquals(1, jobs.size());
        String metricsPath = String.valueOf(at(jobs.get(0), "metrics_path"));
        assertEquals("/actuator/prometheus", metricsPath);
        List<?> targets = (List<?>) at(jobs.get(0), "static_configs", 0, "targets");
        assertEquals(1, targets.size());
        String[] target = String.valueOf(targets.get(0)).split(":");
        assertTrue(((Map<?, ?>) compose.get("services")).containsKey(target[0]), "scrape target " + target[0]);
        Map<String, String> environment = environment(service(compose, target[0]));
        assertEquals(serverPort(environment), Integer.parseInt(target[1]), "scrape target port");

        HttpResponse<String> scrape = Deployables.get(port, metricsPath);
        assertEquals(200, scrape.statusCode());
        assertTrue(scrape.body().contains("# TYPE stipple_queue_depth gauge"), "not the application's metrics");
    }

    @Test
    void grafanaIsProvisionedWithPrometheusAndTheDashboard() {
        Map<String, Object> compose = yamlMap(file("docker/compose.yaml"));
        Map<String, Object> grafana = service(compose, "grafana");
        Map<String, Path> mounts = bindMounts(grafana, Set.of("grafana-data"));
        Path provisioning = mounts.get("/etc/grafana/provisioning");
        assertNotNull(provisioning, "Grafana's provisioning directory is not mounted");

        Map<String, Object> datasources = yamlMap(provisioning.resolve("datasources/prometheus.yaml"));
        String url = String.valueOf(at(datasources, "datasources", 0, "url"));
        assertEquals("prometheus", String.valueOf(at(datasources, "datasources", 0, "type")));
        Matcher address = Pattern.compile("http://([\\w-]+):(\\d+)").matcher(url);
        assertTrue(address.matches(), url);
        assertTrue(((Map<?, ?>) compose.get("services")).containsKey(address.group(1)), "datasource host " + url);
        assertEquals("9090", address.group(2), "Prometheus listens on 9090");
        String scrapeInterval = String.valueOf(at(yamlMap(file("docker/prometheus/prometheus.yml")), "global", "scrape_interval"));
        assertEquals(scrapeInterval, String.valueOf(at(datasources, "datasources", 0, "jsonData", "timeInterval")),
                "the datasource's interval is Prometheus's scrape interval ($__rate_interval depends on it)");

        Map<String, Object> dashboards = yamlMap(provisioning.resolve("dashboards/stipple.yaml"));
        String path = String.valueOf(at(dashboards, "providers", 0, "options", "path"));
        Path hostDirectory = mounts.get(path);
        assertNotNull(hostDirectory, "the dashboard provider reads " + path + ", where nothing is mounted");
        assertTrue(Files.isRegularFile(hostDirectory.resolve("stipple.json")));
        String home = environment(grafana).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH");
        assertEquals(path + "/stipple.json", home, "the home dashboard");
    }

    static JsonNode dashboard() {
        try {
            return Deployables.STRICT.readTree(file("docker/grafana/dashboards/stipple.json").toFile());
        } catch (IOException e) {
            throw new AssertionError("the dashboard is not JSON", e);
        }
    }

    @Test
    void theDashboardQueriesOnlyMetricsTheServerExports() {
        Set<String> exported = new TreeSet<>(exportedSeries(port));
        exported.addAll(lazyCounters());
        JsonNode dashboard = dashboard();
        Set<String> variables = new TreeSet<>(Set.of("__rate_interval", "__interval", "__range"));
        dashboard.path("templating").path("list").forEach(variable -> variables.add(variable.path("name").asText()));

        Map<String, String> expressions = new LinkedHashMap<>();
        JsonNode instance = null;
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("name").asText().equals("instance")) {
                instance = variable;
            }
        }
        assertNotNull(instance, "no instance variable");
        expressions.put("variable instance", instance.path("query").path("query").asText());
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            String title = panel.path("title").asText();
            assertTrue(ids.add(panel.path("id").asInt()), "two panels with id " + panel.path("id"));
            JsonNode grid = panel.path("gridPos");
            assertTrue(grid.path("x").asInt() + grid.path("w").asInt() <= 24, title + " is wider than the dashboard");
            assertEquals("${datasource}", panel.path("datasource").path("uid").asText(), title + ": datasource");
            assertFalse(panel.path("targets").isEmpty(), title + " has no query");
            for (JsonNode target : panel.path("targets")) {
                assertEquals("${datasource}", target.path("datasource").path("uid").asText(), title + ": datasource");
                expressions.put(title + " " + target.path("refId").asText(), target.path("expr").asText());
            }
        }
        assertTrue(ids.size() >= 10, "panels: " + ids.size());
        Set<String> used = new TreeSet<>();
        expressions.forEach((where, expression) -> {
            Set<String> metrics = metricNames(expression);
            assertFalse(metrics.isEmpty(), where + " reads no metric: " + expression);
            for (String metric : metrics) {
                assertTrue(exported.contains(metric), () -> where + " queries " + metric
                        + ", which the server does not export: " + expression);
            }
            used.addAll(metrics);
            Matcher variable = Pattern.compile("\\$\\{?(\\w+)").matcher(expression);
            while (variable.find()) {
                assertTrue(variables.contains(variable.group(1)), where + " uses undefined $" + variable.group(1));
            }
        });
        // What the dashboard is for: queue depth, throughput, latency percentiles, batch occupancy.
        for (String needed : List.of("stipple_queue_depth", "stipple_images_generated_total",
                "stipple_request_latency_seconds_bucket", "stipple_batch_rows_bucket", "stipple_active_rows")) {
            assertTrue(used.contains(needed), "the dashboard does not show " + needed);
        }
        assertTrue(expressions.values().stream().anyMatch(expression ->
                expression.contains("histogram_quantile(0.95") && expression.contains("stipple_request_latency_seconds_bucket")),
                "no latency percentile");
    }

    @Test
    void theMetricNameExtractionSeesMetricsAndNothingElse() {
        assertEquals(Set.of("stipple_request_latency_seconds_bucket"), metricNames(
                "histogram_quantile(0.95, sum by (le, sampler) (rate(stipple_request_latency_seconds_bucket{instance=~\"$instance\"}[$__rate_interval])))"));
        assertEquals(Set.of("stipple_queue_depth", "stipple_active_images"), metricNames(
                "sum(stipple_queue_depth{namespace=\"stipple\"}) + sum(stipple_active_images{namespace=\"stipple\"})"));
        assertEquals(Set.of("stipple_rejections_total"), metricNames(
                "(sum(rate(stipple_rejections_total[1m])) or vector(0)) * 60"));
        assertEquals(Set.of("stipple_active_rows"), metricNames("stipple_active_rows{instance=~\"$instance\"} / $max_rows"));
        assertEquals(Set.of("stipple_queue_depth"), metricNames("label_values(stipple_queue_depth, instance)"));
        assertEquals(Set.of("stipple_queue_dept"), metricNames("sum(stipple_queue_dept)"), "a typo is a metric name");
    }
}
