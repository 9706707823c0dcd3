package io.stipple.deploy;

import static io.stipple.deploy.Deployables.ROOT;
import static io.stipple.deploy.Deployables.assertBindsToRealProperties;
import static io.stipple.deploy.Deployables.exportedSeries;
import static io.stipple.deploy.Deployables.metricNames;
import static io.stipple.deploy.Deployables.read;
import static io.stipple.deploy.Deployables.serverPort;
import static io.stipple.deploy.Deployables.shutdownPhaseTimeout;
import static io.stipple.deploy.Deployables.stippleProperties;
import static io.stipple.deploy.Deployables.strictly;
import static io.stipple.deploy.Deployables.yamlDocuments;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.springframework.boot.test.context.SpringBootTest.WebEnvironment.RANDOM_PORT;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LifecycleHandler;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.stipple.config.StippleProperties;
import io.stipple.deploy.CustomResources.Kustomization;
import io.stipple.deploy.CustomResources.ScaledObject;
import io.stipple.deploy.CustomResources.Trigger;
import io.stipple.config.DeviceSetting;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The manifests of k8s/: each parses strictly into its typed model (fabric8's for Kubernetes kinds,
 * {@link CustomResources} for KEDA and kustomize), and they agree with each other and with the
 * application: probe paths it serves, its port, settings it binds, metrics it exports, its shutdown time.
 */
@SpringBootTest(webEnvironment = RANDOM_PORT, properties = {"stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false"})
class KubernetesManifestsTest {
    private static final String LIVENESS = "/actuator/health/liveness";
    private static final String READINESS = "/actuator/health/readiness";
    /** What the engine may still take once its grace period is over: joining the worker, ending the encoders. */
    private static final Duration ENGINE_STOP_MARGIN = Duration.ofSeconds(10);

    @LocalServerPort
    int port;

    /** The objects of k8s/, one of each kind except Services. */
    record Manifests(Kustomization kustomization, Namespace namespace, ConfigMap configMap,
            PersistentVolumeClaim modelsClaim, Deployment deployment, List<Service> services,
            PodDisruptionBudget disruptionBudget, ScaledObject scaledObject) {

        PodSpec pod() {
            return deployment.getSpec().getTemplate().getSpec();
        }

        Container container() {
            List<Container> containers = pod().getContainers();
            assertEquals(1, containers.size(), "one container");
            return containers.get(0);
        }

        Map<String, String> podLabels() {
            return deployment.getSpec().getTemplate().getMetadata().getLabels();
        }

        Map<String, String> environment() {
            return configMap.getData();
        }
    }

    /** The files of k8s/ by name. */
    static Map<String, String> files() {
        Map<String, String> files = new LinkedHashMap<>();
        for (Path path : Deployables.list("k8s", ".yaml")) {
            files.put(path.getFileName().toString(), read(path));
        }
        return files;
    }

    static Manifests load() {
        return load(files());
    }

    /** Parses every document of every file into its typed model; a kind with no model is an error. */
    static Manifests load(Map<String, String> files) {
        List<Object> objects = new ArrayList<>();
        files.forEach((name, text) -> {
            List<Object> documents = yamlDocuments(text);
            assertFalse(documents.isEmpty(), name + " is empty");
            for (Object document : documents) {
                assertTrue(document instanceof Map, name + ": a document is not a mapping");
                objects.add(typed((Map<?, ?>) document, name));
            }
        });
        List<Service> services = ofKind(objects, Service.class);
        assertFalse(services.isEmpty(), "no Service");
        return new Manifests(one(objects, Kustomization.class), one(objects, Namespace.class),
                one(objects, ConfigMap.class), one(objects, PersistentVolumeClaim.class),
                one(objects, Deployment.class), services, one(objects, PodDisruptionBudget.class),
                one(objects, ScaledObject.class));
    }

    private static Object typed(Map<?, ?> document, String file) {
        String kind = document.get("apiVersion") + " " + document.get("kind");
        Class<?> type = switch (kind) {
            case "kustomize.config.k8s.io/v1beta1 Kustomization" -> Kustomization.class;
            case "v1 Namespace" -> Namespace.class;
            case "v1 ConfigMap" -> ConfigMap.class;
            case "v1 PersistentVolumeClaim" -> PersistentVolumeClaim.class;
            case "v1 Service" -> Service.class;
            case "apps/v1 Deployment" -> Deployment.class;
            case "policy/v1 PodDisruptionBudget" -> PodDisruptionBudget.class;
            case "keda.sh/v1alpha1 ScaledObject" -> ScaledObject.class;
            default -> throw new AssertionError(file + ": no model for " + kind);
        };
        try {
            return strictly(document, type);
        } catch (IllegalArgumentException e) {
            throw new AssertionError(file + ": " + e.getMessage(), e);
        } catch (AssertionError e) {
            throw new AssertionError(file + ": " + e.getMessage(), e);
        }
    }

    private static <T> List<T> ofKind(List<Object> objects, Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static <T> T one(List<Object> objects, Class<T> type) {
        List<T> matches = ofKind(objects, type);
        assertEquals(1, matches.size(), () -> "expected one " + type.getSimpleName() + ", found " + matches.size());
        return matches.get(0);
    }

    // ---- parsing ----

    @Test
    void everyManifestParsesStrictlyIntoItsTypedModel() {
        Manifests manifests = load();
        assertEquals("stipple", manifests.deployment().getMetadata().getName());
        assertNotNull(manifests.scaledObject().spec(), "ScaledObject spec");
    }

    static Stream<Arguments> mistakes() {
        return Stream.of(
                Arguments.of("deployment.yaml", "readinessProbe:", "readinesProbe:", "readinesProbe"),
                Arguments.of("deployment.yaml", "\nspec:\n", "\nspec:\n  replica: 2\n", "$.spec.replica"),
                Arguments.of("deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFileSystem: true",
                        "readOnlyRootFileSystem"),
                Arguments.of("deployment.yaml", "revisionHistoryLimit: 5\n",
                        "revisionHistoryLimit: 5\n  revisionHistoryLimit: 6\n", "duplicate key revisionHistoryLimit"),
                Arguments.of("deployment.yaml", "containerPort: 8080", "containerPort: \"8080\"", "containerPort"),
                Arguments.of("configmap.yaml", "STIPPLE_QUEUE_CAPACITY: \"32\"", "STIPPLE_QUEUE_CAPACITY: 32",
                        "STIPPLE_QUEUE_CAPACITY"),
                Arguments.of("service.yaml", "sessionAffinity: ClientIP", "sessionAfinity: ClientIP", "sessionAfinity"),
                Arguments.of("pdb.yaml", "maxUnavailable: 1", "maxUnavaliable: 1", "maxUnavaliable"),
                Arguments.of("scaledobject.yaml", "minReplicaCount: 1", "minReplicas: 1", "minReplicas"),
                Arguments.of("scaledobject.yaml", "threshold: \"8\"", "threshold: 8", "threshold"),
                Arguments.of("scaledobject.yaml", "stabilizationWindowSeconds: 600", "stabilisationWindowSeconds: 600",
                        "stabilisationWindowSeconds"),
                Arguments.of("kustomization.yaml", "resources:", "resource:", "resource"));
    }

    /** The checks can fail: each mistake, made in the real file, is caught and named. */
    @ParameterizedTest(name = "{0}: {2}")
    @MethodSource("mistakes")
    void aMisspeltOrMistypedFieldIsRejected(String file, String correct, String mistaken, String named) {
        Map<String, String> files = files();
        String text = files.get(file);
        assertTrue(text.contains(correct), () -> file + " no longer contains " + correct);
        files.put(file, text.replaceFirst(Pattern.quote(correct), Matcher.quoteReplacement(mistaken)));
        Throwable error = assertThrows(Throwable.class, () -> load(files));
        assertTrue(String.valueOf(error.getMessage()).contains(named) || String.valueOf(error.getCause()).contains(named),
                () -> "the error should name " + named + ": " + error);
    }

    // ---- the manifests agree with each other ----

    @Test
    void theKustomizationAppliesEveryManifestIntoTheNamespace() {
        Manifests manifests = load();
        Set<String> manifestFiles = files().keySet().stream().filter(name -> !name.equals("kustomization.yaml"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(manifestFiles, new TreeSet<>(manifests.kustomization().resources()));
        assertEquals(manifests.namespace().getMetadata().getName(), manifests.kustomization().namespace());
        String image = manifests.container().getImage();
        assertTrue(manifests.kustomization().images().stream().anyMatch(entry -> entry.name().equals(image)),
                () -> "the kustomization does not set the image " + image);
    }

    static void checkSelectors(Manifests manifests) {
        Map<String, String> podLabels = manifests.podLabels();
        Map<String, String> deploymentSelector = manifests.deployment().getSpec().getSelector().getMatchLabels();
        assertSelects(deploymentSelector, podLabels, "the Deployment's selector");
        for (Service service : manifests.services()) {
            assertSelects(service.getSpec().getSelector(), podLabels, "Service " + service.getMetadata().getName());
        }
        assertSelects(manifests.disruptionBudget().getSpec().getSelector().getMatchLabels(), podLabels,
                "the PodDisruptionBudget");
    }

    private static void assertSelects(Map<String, String> selector, Map<String, String> labels, String what) {
        assertTrue(selector != null && !selector.isEmpty(), () -> what + " selects nothing");
        assertTrue(labels.entrySet().containsAll(selector.entrySet()),
                () -> what + " " + selector + " does not select the pods " + labels);
    }

    @Test
    void servicesAndBudgetSelectThePods() {
        checkSelectors(load());
    }

    /** The container port a probe's or a Service's port (a name or a number) designates. */
    private static ContainerPort containerPort(Container container, IntOrString port, String what) {
        assertNotNull(port, what + " has no port");
        return container.getPorts().stream()
                .filter(candidate -> port.getStrVal() != null ? port.getStrVal().equals(candidate.getName())
                        : port.getIntVal().equals(candidate.getContainerPort()))
                .findFirst().orElseThrow(() -> new AssertionError(what + " targets port " + port.getStrVal()
                        + port.getIntVal() + ", which the container does not declare"));
    }

    static void checkServiceTargets(Manifests manifests) {
        int serverPort = serverPort(manifests.environment());
        for (Service service : manifests.services()) {
            for (ServicePort servicePort : service.getSpec().getPorts()) {
                ContainerPort target = containerPort(manifests.container(), servicePort.getTargetPort(),
                        "Service " + service.getMetadata().getName());
                assertEquals(serverPort, target.getContainerPort(), "the Service's target is not server.port");
            }
        }
    }

    @Test
    void servicesTargetTheServersPort() {
        checkServiceTargets(load());
    }

    @Test
    void aServiceTargetingAnUndeclaredPortIsCaught() {
        Map<String, String> files = files();
        String text = files.get("service.yaml");
        assertTrue(text.contains("targetPort: http"), "service.yaml no longer targets the port named http");
        files.put("service.yaml", text.replaceFirst("targetPort: http", "targetPort: htp"));
        Manifests broken = load(files);
        AssertionError error = assertThrows(AssertionError.class, () -> checkServiceTargets(broken));
        assertTrue(error.getMessage().contains("htp"), error.getMessage());
    }

    @Test
    void probesUseTheActuatorEndpointsTheServerAnswers() {
        Manifests manifests = load();
        Container container = manifests.container();
        Map<String, Probe> probes = new LinkedHashMap<>();
        probes.put("startup", container.getStartupProbe());
        probes.put("liveness", container.getLivenessProbe());
        probes.put("readiness", container.getReadinessProbe());
        Map<String, String> expected = Map.of("startup", LIVENESS, "liveness", LIVENESS, "readiness", READINESS);
        int serverPort = serverPort(manifests.environment());
        probes.forEach((kind, probe) -> {
            assertNotNull(probe, kind + " probe");
            assertNotNull(probe.getHttpGet(), kind + " probe is not an HTTP GET");
            assertEquals(expected.get(kind), probe.getHttpGet().getPath(), kind + " probe path");
            assertEquals(serverPort, containerPort(container, probe.getHttpGet().getPort(), kind + " probe")
                    .getContainerPort(), kind + " probe port");
            HttpResponse<String> answer = Deployables.get(port, probe.getHttpGet().getPath());
            assertEquals(200, answer.statusCode(), () -> kind + " probe " + probe.getHttpGet().getPath() + ": " + answer.body());
            assertTrue(answer.body().contains("\"UP\""), answer.body());
        });
        // Loading a large pipeline onto a GPU takes minutes; the server only listens once it is loaded.
        Probe startup = probes.get("startup");
        long startupSeconds = (long) startup.getFailureThreshold() * startup.getPeriodSeconds();
        assertTrue(startupSeconds >= 300, "the startup probe allows only " + startupSeconds + " s for loading");
    }

    @Test
    void prometheusAnnotationsPointAtTheScrapeEndpoint() {
        Manifests manifests = load();
        Map<String, String> annotations = manifests.deployment().getSpec().getTemplate().getMetadata().getAnnotations();
        assertEquals("true", annotations.get("prometheus.io/scrape"));
        assertEquals("/actuator/prometheus", annotations.get("prometheus.io/path"));
        assertEquals(String.valueOf(serverPort(manifests.environment())), annotations.get("prometheus.io/port"));
        HttpResponse<String> scrape = Deployables.get(port, annotations.get("prometheus.io/path"));
        assertEquals(200, scrape.statusCode());
        assertTrue(scrape.body().contains("# TYPE stipple_queue_depth gauge"), "not the application's metrics");
    }

    // ---- the manifests agree with the application ----

    @Test
    void theConfigMapIsTheContainersEnvironmentAndBindsToRealSettings() {
        Manifests manifests = load();
        List<EnvFromSource> envFrom = manifests.container().getEnvFrom();
        assertTrue(envFrom.stream().anyMatch(source -> source.getConfigMapRef() != null
                && manifests.configMap().getMetadata().getName().equals(source.getConfigMapRef().getName())),
                "the container does not take its environment from ConfigMap " + manifests.configMap().getMetadata().getName());
        assertTrue(Deployables.stipplePropertyNames().containsAll(List.of("stipple.queue.capacity",
                "stipple.shutdown.grace", "stipple.jobs.events-heartbeat")), "the application's settings");
        Map<String, String> bound = assertBindsToRealProperties(manifests.environment(), "configmap.yaml");
        assertTrue(bound.containsKey("stipple.model-dir"), "the ConfigMap names no pipeline: " + bound);
        StippleProperties properties = stippleProperties(manifests.environment());
        assertEquals(DeviceSetting.GPU, properties.device(), "a GPU deployment should refuse to run on the CPU");
        assertFalse(properties.embeddedModels(), "a GPU deployment serves its pipeline, not the embedded models too");
        assertNotNull(properties.defaultModel(), "the ConfigMap names the model it serves, which the autoscaler counts");
        // The image's entrypoint passes JAVA_OPTS to the JVM.
        if (manifests.environment().containsKey("JAVA_OPTS")) {
            assertTrue(read(ROOT.resolve("docker/Dockerfile.cuda")).contains("$JAVA_OPTS"),
                    "Dockerfile.cuda does not read JAVA_OPTS");
        }
    }

    @Test
    void thePipelineComesFromTheModelsClaimMountedReadOnly() {
        Manifests manifests = load();
        Path modelDir = stippleProperties(manifests.environment()).modelDir();
        assertNotNull(modelDir, "STIPPLE_MODEL_DIR");
        VolumeMount mount = manifests.container().getVolumeMounts().stream()
                .filter(candidate -> modelDir.startsWith(candidate.getMountPath())).findFirst()
                .orElseThrow(() -> new AssertionError(modelDir + " is on no mounted volume"));
        assertEquals(modelDir.getParent().toString(), mount.getMountPath(), "the pipeline directory's parent is the mount");
        assertEquals(Boolean.TRUE, mount.getReadOnly(), "the models are mounted read-only");
        Volume volume = volume(manifests, mount.getName());
        assertNotNull(volume.getPersistentVolumeClaim(), "the models volume is not a PersistentVolumeClaim");
        assertEquals(manifests.modelsClaim().getMetadata().getName(), volume.getPersistentVolumeClaim().getClaimName());
        assertEquals("stipple-models", volume.getPersistentVolumeClaim().getClaimName());
        // Replicas on different nodes mount it at once.
        assertTrue(manifests.modelsClaim().getSpec().getAccessModes().stream().anyMatch(mode -> mode.endsWith("Many")),
                "the models claim cannot be mounted by several nodes");
    }

    private static Volume volume(Manifests manifests, String name) {
        return manifests.pod().getVolumes().stream().filter(volume -> volume.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no volume " + name));
    }

    @Test
    void podsGetTimeToFinishAdmittedWorkBeforeTheyAreKilled() {
        Manifests manifests = load();
        Duration grace = stippleProperties(manifests.environment()).shutdown().grace();
        LifecycleHandler preStop = manifests.container().getLifecycle().getPreStop();
        long preStopSeconds;
        if (preStop.getSleep() != null) {
            preStopSeconds = preStop.getSleep().getSeconds();
        } else {
            List<String> command = preStop.getExec().getCommand();
            assertEquals("sleep", command.get(0), "the preStop hook is expected to wait");
            preStopSeconds = Long.parseLong(command.get(1));
        }
        // preStop runs first; then the engine drains within its grace; then the web server's graceful phase.
        Duration needed = Duration.ofSeconds(preStopSeconds).plus(grace).plus(ENGINE_STOP_MARGIN).plus(shutdownPhaseTimeout());
        long terminationGrace = manifests.pod().getTerminationGracePeriodSeconds();
        assertTrue(terminationGrace >= needed.toSeconds(), "terminationGracePeriodSeconds " + terminationGrace
                + " is shorter than the " + needed.toSeconds() + " s a pod may need to stop");
    }

    @Test
    void theContainerRunsUnprivilegedAsTheImagesUser() {
        Manifests manifests = load();
        var podSecurity = manifests.pod().getSecurityContext();
        assertEquals(Boolean.TRUE, podSecurity.getRunAsNonRoot());
        Matcher user = Pattern.compile("(?m)^USER (\\d+)").matcher(read(ROOT.resolve("docker/Dockerfile.cuda")));
        assertTrue(user.find(), "Dockerfile.cuda has no numeric USER");
        assertEquals(Long.parseLong(user.group(1)), podSecurity.getRunAsUser(), "runAsUser is not the image's user");
        var security = manifests.container().getSecurityContext();
        assertEquals(Boolean.FALSE, security.getAllowPrivilegeEscalation());
        assertEquals(Boolean.TRUE, security.getReadOnlyRootFilesystem());
        assertEquals(List.of("ALL"), security.getCapabilities().getDrop());
        // With a read-only root, /tmp (java.io.tmpdir) must be a volume, and DJL's cache, filled in the
        // image, must not be hidden under one.
        Set<String> mounts = manifests.container().getVolumeMounts().stream().map(VolumeMount::getMountPath)
                .collect(Collectors.toSet());
        assertTrue(mounts.contains("/tmp"), "no writable /tmp");
        assertNotNull(volume(manifests, manifests.container().getVolumeMounts().stream()
                .filter(mount -> mount.getMountPath().equals("/tmp")).findFirst().orElseThrow().getName()).getEmptyDir(),
                "/tmp is not an emptyDir");
        Matcher cache = Pattern.compile("DJL_CACHE_DIR=(\\S+)").matcher(read(ROOT.resolve("docker/Dockerfile.cuda")));
        assertTrue(cache.find(), "Dockerfile.cuda sets no DJL_CACHE_DIR");
        String cacheDir = cache.group(1);
        assertTrue(mounts.stream().noneMatch(mount -> cacheDir.startsWith(mount) || mount.startsWith(cacheDir)),
                "a volume hides DJL's pre-filled cache " + cacheDir);
        // Service links would put STIPPLE_PORT, STIPPLE_SERVICE_HOST... into the environment, where Spring
        // reads STIPPLE_* as settings.
        assertEquals(Boolean.FALSE, manifests.pod().getEnableServiceLinks());
    }

    @Test
    void thePodAsksForOneGpuAndToleratesGpuNodes() {
        Manifests manifests = load();
        Map<String, Quantity> limits = manifests.container().getResources().getLimits();
        assertEquals("1", limits.get("nvidia.com/gpu").getAmount(), "one GPU per replica");
        assertNotNull(limits.get("memory"), "a memory limit");
        assertNotNull(manifests.container().getResources().getRequests().get("cpu"), "a CPU request");
        assertTrue(manifests.pod().getTolerations().stream().anyMatch(toleration ->
                "nvidia.com/gpu".equals(toleration.getKey()) && "NoSchedule".equals(toleration.getEffect())),
                "no toleration of the nvidia.com/gpu taint");
        assertFalse(manifests.pod().getNodeSelector().isEmpty(), "no node selector for GPU nodes");
    }

    // ---- autoscaling ----

    static void checkScaledObject(Manifests manifests, Set<String> exported) {
        ScaledObject scaled = manifests.scaledObject();
        var target = scaled.spec().scaleTargetRef();
        assertEquals(manifests.deployment().getMetadata().getName(), target.name(), "the ScaledObject's target");
        assertEquals("Deployment", target.kind() == null ? "Deployment" : target.kind());
        assertEquals("apps/v1", target.apiVersion() == null ? "apps/v1" : target.apiVersion());
        int min = scaled.spec().minReplicaCount();
        int max = scaled.spec().maxReplicaCount();
        assertTrue(min >= 1 && min <= max, "replicas " + min + ".." + max);
        assertEquals(1, scaled.spec().triggers().size(), "one trigger");
        Trigger trigger = scaled.spec().triggers().get(0);
        assertEquals("prometheus", trigger.type());
        Map<String, String> metadata = trigger.metadata();
        assertTrue(CustomResources.PROMETHEUS_METADATA.containsAll(metadata.keySet()),
                () -> "unknown Prometheus scaler keys: " + metadata.keySet());
        for (String required : List.of("serverAddress", "query", "threshold")) {
            assertTrue(metadata.containsKey(required), "the Prometheus trigger has no " + required);
        }
        Set<String> metrics = metricNames(metadata.get("query"));
        assertEquals(Set.of("stipple_queue_depth", "stipple_active_images"), metrics, "the scaling query's metrics");
        assertTrue(exported.containsAll(metrics), () -> "the application does not export " + metrics);
        // Only this deployment's pods: the namespace the kustomization applies into.
        Matcher namespaces = Pattern.compile("namespace=\"([^\"]*)\"").matcher(metadata.get("query"));
        int selectors = 0;
        while (namespaces.find()) {
            assertEquals(manifests.kustomization().namespace(), namespaces.group(1), "the query's namespace");
            selectors++;
        }
        assertEquals(metrics.size(), selectors, "every metric of the query is limited to the namespace");
        // Only the model the deployment serves: one model's batches are what the threshold is sized for.
        String served = stippleProperties(manifests.environment()).defaultModel();
        Matcher models = Pattern.compile("model=\"([^\"]*)\"").matcher(metadata.get("query"));
        int modelSelectors = 0;
        while (models.find()) {
            assertEquals(served, models.group(1), "the query's model is not the one the ConfigMap serves");
            modelSelectors++;
        }
        assertEquals(metrics.size(), modelSelectors, "every metric of the query is limited to the served model");
        // A replica is asked to hold no more work than one U-Net batch: max-rows / 2 guided images.
        double threshold = Double.parseDouble(metadata.get("threshold"));
        int maxRows = stippleProperties(manifests.environment()).batch().maxRows();
        assertTrue(threshold > 0 && threshold <= maxRows / 2.0,
                "threshold " + threshold + " per replica, for batches of " + maxRows + " rows");
    }

    @Test
    void theAutoscalerScalesTheDeploymentOnMetricsTheServerExports() {
        checkScaledObject(load(), exportedSeries(port));
    }

    @Test
    void theQueriedMetricsCountEachModelApart() {
        String scrape = Deployables.get(port, "/actuator/prometheus").body();
        for (String metric : List.of("stipple_queue_depth", "stipple_active_images")) {
            assertTrue(Pattern.compile("(?m)^" + metric + "\\{[^}]*model=\"tiny-fixture\"").matcher(scrape).find(),
                    () -> metric + " has no series for the served model:\n" + scrape);
        }
    }

    @Test
    void anAutoscalerCountingEveryModelIsCaught() {
        AssertionError error = checkScaledObjectWith(", model=\"[^\"]*\"", "");
        assertTrue(error.getMessage().contains("served model"), error.getMessage());
    }

    @Test
    void anAutoscalerTargetingAnotherDeploymentIsCaught() {
        checkScaledObjectWith("name: stipple\n  pollingInterval", "name: stipple-server\n  pollingInterval");
    }

    /** What {@link #checkScaledObject} says of scaledobject.yaml with the first match of {@code pattern} replaced. */
    private AssertionError checkScaledObjectWith(String pattern, String replacement) {
        Map<String, String> files = files();
        String text = files.get("scaledobject.yaml");
        String changed = text.replaceFirst(pattern, replacement);
        assertFalse(changed.equals(text), "scaledobject.yaml no longer contains " + pattern);
        files.put("scaledobject.yaml", changed);
        Manifests broken = load(files);
        return assertThrows(AssertionError.class, () -> checkScaledObject(broken, exportedSeries(port)));
    }
}
