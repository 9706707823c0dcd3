package io.stipple.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.introspect.AnnotatedMember;
import com.fasterxml.jackson.databind.introspect.BeanPropertyDefinition;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.stipple.config.StippleProperties;
import io.stipple.testing.StippleHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.convert.ApplicationConversionService;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.FileSystemResource;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What the deployment tests share: the repository's files, strict YAML and typed-model parsing, the
 * application's own configuration binding, and the metric names the running application exports.
 */
final class Deployables {
    /** Surefire runs in the module directory, which is the repository root. */
    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Path APPLICATION_YAML = ROOT.resolve("src/main/resources/application.yaml");

    /**
     * Jackson 2 (fabric8's), as strict as the API server: unknown fields, numbers or booleans where a
     * string belongs ({@code STIPPLE_QUEUE_CAPACITY: 32} in a ConfigMap), strings where a number belongs
     * and fractions where an integer belongs are all errors. fabric8's models still swallow unknown fields
     * into their additional-properties maps, which {@link #unknownFields} looks for.
     */
    static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
            .withCoercionConfig(LogicalType.Textual, config -> config
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .build();

    /** Variables that are not Spring properties but are read by the image, the JVM, DJL or glibc. */
    static final Set<String> NON_SPRING_VARIABLES = Set.of("JAVA_OPTS", "JAVA_TOOL_OPTIONS", "JAVA_HOME", "PATH",
            "LANG", "DJL_CACHE_DIR", "DJL_OFFLINE", "PYTORCH_VERSION", "PYTORCH_FLAVOR", "GLIBC_TUNABLES");

    private Deployables() {
    }

    static Path file(String relative) {
        Path path = ROOT.resolve(relative);
        assertTrue(Files.isRegularFile(path), () -> relative + " does not exist");
        return path;
    }

    static String read(Path path) {
        try {
            return Files.readString(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Path> list(String directory, String suffix) {
        try (Stream<Path> files = Files.list(ROOT.resolve(directory))) {
            return files.filter(path -> path.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- YAML ----

    /** Every document of a YAML text as maps, lists and scalars; a key given twice in one map is an error. */
    static List<Object> yamlDocuments(String text) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        List<Object> documents = new ArrayList<>();
        for (Object document : new Yaml(new SafeConstructor(options)).loadAll(text)) {
            if (document != null) {
                documents.add(document);
            }
        }
        return documents;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> yamlMap(Path path) {
        List<Object> documents = yamlDocuments(read(path));
        assertEquals(1, documents.size(), () -> path + " should hold one YAML document");
        assertTrue(documents.get(0) instanceof Map, () -> path + " should be a YAML mapping");
        return (Map<String, Object>) documents.get(0);
    }

    /** The value at a path of keys and list indices, e.g. {@code at(compose, "services", "stipple", "ports", 0)}. */
    static Object at(Object node, Object... path) {
        Object current = node;
        for (Object step : path) {
            if (step instanceof Integer index) {
                assertTrue(current instanceof List<?> list && index < list.size(), () -> "no element " + step);
                current = ((List<?>) current).get(index);
            } else {
                assertTrue(current instanceof Map<?, ?> map && map.containsKey(step), () -> "no key " + step);
                current = ((Map<?, ?>) current).get(step);
            }
        }
        return current;
    }

    // ---- typed models ----

    /** A YAML document converted into {@code type} by the strict mapper, with no field left unknown. */
    static <T> T strictly(Object document, Class<T> type) {
        T value = STRICT.convertValue(document, type);
        List<String> unknown = unknownFields(value);
        assertTrue(unknown.isEmpty(), () -> type.getSimpleName() + " has fields its model does not know: " + unknown);
        return value;
    }

    /**
     * The fields that fabric8's models put into their {@code additionalProperties} maps anywhere in the object
     * graph: the ones the Kubernetes API does not know. Walks the properties Jackson sees, as JSON paths.
     */
    static List<String> unknownFields(Object root) {
        List<String> unknown = new ArrayList<>();
        walk(root, "$", unknown, 0);
        return unknown;
    }

    private static void walk(Object node, String path, List<String> unknown, int depth) {
        if (node == null) {
            return;
        }
        if (depth > 64) {
            throw new IllegalStateException("object graph deeper than 64 at " + path);
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((key, value) -> walk(value, path + "." + key, unknown, depth + 1));
            return;
        }
        if (node instanceof Collection<?> collection) {
            int index = 0;
            for (Object element : collection) {
                walk(element, path + "[" + index++ + "]", unknown, depth + 1);
            }
            return;
        }
        Class<?> type = node.getClass();
        boolean model = type.getName().startsWith("io.fabric8.") || type.getName().startsWith("io.stipple.deploy.");
        if (!model || type.isEnum()) {
            return;
        }
        additionalProperties(node).forEach(key -> unknown.add(path + "." + key));
        BeanDescription description = STRICT.getSerializationConfig().introspect(STRICT.constructType(type));
        for (BeanPropertyDefinition property : description.findProperties()) {
            AnnotatedMember accessor = property.getAccessor();
            if (accessor != null) {
                accessor.fixAccess(true);
                walk(accessor.getValue(node), path + "." + property.getName(), unknown, depth + 1);
            }
        }
    }

    private static Set<String> additionalProperties(Object node) {
        try {
            Method getter = node.getClass().getMethod("getAdditionalProperties");
            Object properties = getter.invoke(node);
            return properties instanceof Map<?, ?> map ? new TreeSet<>(map.keySet().stream().map(String::valueOf).toList())
                    : Set.of();
        } catch (NoSuchMethodException e) {
            return Set.of();
        } catch (IllegalAccessException | InvocationTargetException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- the application's configuration ----

    /**
     * Binds as the application would in a container whose environment holds {@code environment}: the
     * variables through Spring's relaxed binding for environment variables, over application.yaml.
     */
    static Binder binder(Map<String, String> environment) {
        List<PropertySource<?>> sources = new ArrayList<>();
        sources.add(new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new LinkedHashMap<>(environment)));
        try {
            sources.addAll(new YamlPropertySourceLoader().load("application.yaml",
                    new FileSystemResource(APPLICATION_YAML)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Binder(ConfigurationPropertySources.from(sources), null,
                ApplicationConversionService.getSharedInstance());
    }

    /** {@code stipple.*} as the application binds it from these environment variables. */
    static StippleProperties stippleProperties(Map<String, String> environment) {
        return binder(environment).bindOrCreate("stipple", StippleProperties.class);
    }

    /** The port the server listens on (and the actuator with it): {@code server.port}, 8080 unless set. */
    static int serverPort(Map<String, String> environment) {
        Binder binder = binder(environment);
        assertFalse(binder.bind("management.server.port", Integer.class).isBound(),
                "a separate management port would move the actuator endpoints the probes use");
        return binder.bind("server.port", Integer.class).orElse(8080);
    }

    /** {@code spring.lifecycle.timeout-per-shutdown-phase}: how long the web server's graceful phase may last. */
    static Duration shutdownPhaseTimeout() {
        return binder(Map.of()).bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                .orElse(Duration.ofSeconds(30));
    }

    /**
     * Every {@code stipple.*} property the application reads, as {@code stipple.queue.capacity}: the leaves
     * of {@link StippleProperties}, and the few read with {@code @Value} (the event-stream heartbeat).
     */
    static List<String> stipplePropertyNames() {
        List<String> names = new ArrayList<>();
        collect(StippleProperties.class, "stipple", names);
        Pattern value = Pattern.compile("@Value\\(\"\\$\\{(stipple\\.[a-z0-9.-]+)[:}]");
        try (Stream<Path> sources = Files.walk(ROOT.resolve("src/main/java"))) {
            sources.filter(path -> path.toString().endsWith(".java")).forEach(path -> {
                Matcher matcher = value.matcher(read(path));
                while (matcher.find()) {
                    if (!names.contains(matcher.group(1))) {
                        names.add(matcher.group(1));
                    }
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return names;
    }

    private static void collect(Class<?> record, String prefix, List<String> names) {
        for (RecordComponent component : record.getRecordComponents()) {
            String name = prefix + "." + dashed(component.getName());
            Class<?> type = component.getType();
            if (type.isRecord() && type.getDeclaringClass() == StippleProperties.class) {
                collect(type, name, names);
            } else {
                names.add(name);
            }
        }
    }

    private static String dashed(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }

    /**
     * Asserts that each variable is either one the image, JVM, DJL or glibc reads, or a {@code STIPPLE_*}
     * variable that Spring binds to exactly one real {@code stipple.*} property, with its value converting
     * to the property's type. Returns the properties they set.
     */
    static Map<String, String> assertBindsToRealProperties(Map<String, String> environment, String where) {
        Map<String, String> bound = new LinkedHashMap<>();
        for (Map.Entry<String, String> variable : environment.entrySet()) {
            String name = variable.getKey();
            if (NON_SPRING_VARIABLES.contains(name)) {
                continue;
            }
            assertTrue(name.startsWith("STIPPLE_"), () -> where + ": " + name + " is neither a STIPPLE_* setting "
                    + "nor one the image, JVM, DJL or glibc reads");
            Binder alone = binder(Map.of(name, variable.getValue()));
            List<String> properties = stipplePropertyNames().stream()
                    .filter(property -> alone.bind(property, Bindable.of(String.class))
                            .map(variable.getValue()::equals).orElse(false))
                    .toList();
            assertEquals(1, properties.size(), () -> where + ": " + name + " binds to " + properties
                    + ", not to exactly one of " + stipplePropertyNames());
            bound.put(properties.get(0), variable.getValue());
        }
        // The values convert to the properties' types (a Duration, a DataSize, an enum...).
        stippleProperties(environment);
        return bound;
    }

    // ---- pom.xml ----

    static Document pom() {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setNamespaceAware(false);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return factory.newDocumentBuilder().parse(ROOT.resolve("pom.xml").toFile());
        } catch (Exception e) {
            throw new IllegalStateException("cannot parse pom.xml", e);
        }
    }

    /** The text of the project's direct child element {@code name} (artifactId, version...). */
    static String pomProjectValue(String name) {
        NodeList children = pom().getDocumentElement().getChildNodes();
        for (int i = 0; i < children.getLength(); i++) {
            if (children.item(i) instanceof Element element && element.getTagName().equals(name)) {
                return element.getTextContent().trim();
            }
        }
        throw new AssertionError("pom.xml has no project/" + name);
    }

    static String pomProperty(String name) {
        NodeList properties = pom().getElementsByTagName("properties");
        Element projectProperties = (Element) properties.item(0);
        NodeList matches = projectProperties.getElementsByTagName(name);
        assertEquals(1, matches.getLength(), () -> "pom.xml property " + name);
        return matches.item(0).getTextContent().trim();
    }

    // ---- metrics ----

    private static final Pattern SERIES = Pattern.compile("(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]");

    /**
     * The series names the running application exports on {@code /actuator/prometheus}, after one small
     * generation has registered the per-request meters.
     */
    static Set<String> exportedSeries(int port) {
        StippleHttp http = new StippleHttp(port);
        http.generateJson("{\"prompt\": \"a red circle\", \"width\": 32, \"height\": 32, \"steps\": 2, \"seed\": 1}");
        HttpResponse<String> scrape = get(port, "/actuator/prometheus");
        assertEquals(200, scrape.statusCode(), scrape::body);
        Set<String> names = new TreeSet<>();
        Matcher matcher = SERIES.matcher(scrape.body());
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }

    /**
     * Counters the engine registers on first use (a 429, a failure), so a scrape of a healthy server
     * lacks them, with the meter name the engine's source must register them under.
     */
    static final Map<String, String> LAZY_COUNTERS = Map.of(
            "stipple_rejections_total", "stipple.rejections",
            "stipple_failures_total", "stipple.failures");

    /** {@link #LAZY_COUNTERS} whose meter name really is registered as a counter in the engine's source. */
    static Set<String> lazyCounters() {
        String source = read(ROOT.resolve("src/main/java/io/stipple/engine/EngineMetrics.java"));
        Set<String> names = new TreeSet<>();
        LAZY_COUNTERS.forEach((series, meter) -> {
            assertTrue(source.contains("Counter.builder(\"" + meter + "\")"),
                    () -> "EngineMetrics no longer registers the counter " + meter);
            names.add(series);
        });
        return names;
    }

    /** {@code GET path} of the server on {@code port}, the body as text. */
    static HttpResponse<String> get(int port, String path) {
        StippleHttp http = new StippleHttp(port);
        return http.send(http.request(path).GET().build(), BodyHandlers.ofString());
    }

    private static final Set<String> PROMQL_KEYWORDS = Set.of("and", "or", "unless", "bool", "offset", "by",
            "without", "on", "ignoring", "group_left", "group_right", "inf", "nan");

    /**
     * The metric names a PromQL expression reads: identifiers that are neither functions (followed by a
     * parenthesis), keywords, label names (inside matchers and by/without/on/ignoring lists) nor Grafana
     * variables. {@code label_values(metric, label)} of Grafana's variable queries reads {@code metric}.
     */
    static Set<String> metricNames(String expression) {
        String text = expression
                .replaceAll("label_values\\(([^,()]+),[^)]*\\)", "$1")
                .replaceAll("\\$\\{?\\w+}?", " ")
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^\\]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher matcher = Pattern.compile("(?<![\\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(text);
        while (matcher.find()) {
            String name = matcher.group(1);
            if (matcher.group(2) == null && !PROMQL_KEYWORDS.contains(name.toLowerCase())) {
                names.add(name);
            }
        }
        return names;
    }
}
