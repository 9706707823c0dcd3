package io.stipple.deploy;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscalerBehavior;
import java.util.List;
import java.util.Map;

/**
 * Strict models of the resources fabric8 has no model for, field for field as their schemas define them
 * (KEDA 2.x {@code keda.sh/v1alpha1} ScaledObject, kustomize's Kustomization, the part of it in use).
 * Records have no place for an unknown field, so a misspelt one fails to parse.
 */
final class CustomResources {
    private CustomResources() {
    }

    record ScaledObject(String apiVersion, String kind, ObjectMeta metadata, ScaledObjectSpec spec) {
    }

    record ScaledObjectSpec(ScaleTargetRef scaleTargetRef, Integer pollingInterval, Integer cooldownPeriod,
            Integer initialCooldownPeriod, Integer idleReplicaCount, Integer minReplicaCount, Integer maxReplicaCount,
            Fallback fallback, Advanced advanced, List<Trigger> triggers) {
    }

    record ScaleTargetRef(String apiVersion, String kind, String name, String envSourceContainerName) {
    }

    record Fallback(Integer failureThreshold, Integer replicas, String behavior) {
    }

    record Advanced(Boolean restoreToOriginalReplicaCount, HorizontalPodAutoscalerConfig horizontalPodAutoscalerConfig,
            ScalingModifiers scalingModifiers) {
    }

    record HorizontalPodAutoscalerConfig(String name, HorizontalPodAutoscalerBehavior behavior) {
    }

    record ScalingModifiers(String formula, String target, String activationTarget, String metricType) {
    }

    /** {@code metadata} is a map of strings: the API server refuses a number there. */
    record Trigger(String type, String name, Boolean useCachedMetrics, String metricType,
            Map<String, String> metadata, AuthenticationRef authenticationRef) {
    }

    record AuthenticationRef(String name, String kind) {
    }

    /** The keys of the Prometheus scaler's {@code metadata}, as KEDA's documentation lists them. */
    static final List<String> PROMETHEUS_METADATA = List.of("serverAddress", "query", "queryParameters", "threshold",
            "activationThreshold", "namespace", "customHeaders", "ignoreNullValues", "unsafeSsl", "timeout",
            "authModes");

    record Kustomization(String apiVersion, String kind, String namespace, String namePrefix, String nameSuffix,
            List<String> resources, List<Image> images, List<Object> labels, Map<String, String> commonLabels,
            Map<String, String> commonAnnotations, List<Object> patches, List<Object> configMapGenerator,
            List<Object> secretGenerator, List<Object> replicas, List<String> components) {
    }

    record Image(String name, String newName, String newTag, String digest) {
    }
}
