package io.stipple.model;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Every model the server answers for, by the name in its {@code pipeline.json}, and which one requests get by default. */
public final class ServedModels implements AutoCloseable {
    private final Map<String, ServedModel> byName = new LinkedHashMap<>();
    private final ServedModel defaultModel;

    /** @param defaultName one of the models' names */
    public ServedModels(List<ServedModel> models, String defaultName) {
        for (ServedModel model : models) {
            if (byName.putIfAbsent(model.name(), model) != null) {
                throw new IllegalArgumentException("two models are named \"" + model.name() + "\": "
                        + byName.get(model.name()).source() + " and " + model.source()
                        + "; the name in pipeline.json must be unique among the served models");
            }
        }
        this.defaultModel = byName.get(defaultName);
        if (defaultModel == null) {
            throw new IllegalArgumentException("stipple.default-model is \"" + defaultName
                    + "\", which is not served; served: " + String.join(", ", names()));
        }
    }

    public ServedModel defaultModel() {
        return defaultModel;
    }

    public Optional<ServedModel> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** In the order they were configured: the embedded models first. */
    public Collection<ServedModel> all() {
        return byName.values();
    }

    public List<String> names() {
        return List.copyOf(byName.keySet());
    }

    @Override
    public void close() {
        byName.values().forEach(model -> model.pipeline().close());
    }
}
