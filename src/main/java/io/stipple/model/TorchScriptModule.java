package io.stipple.model;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;

/**
 * One TorchScript file of a pipeline, called directly through its DJL block. Outputs belong to the
 * manager of the first input, so a caller's scope decides their lifetime.
 */
public final class TorchScriptModule implements AutoCloseable {
    private final String fileName;
    private final Model model;

    private TorchScriptModule(String fileName, Model model) {
        this.fileName = fileName;
        this.model = model;
    }

    public static TorchScriptModule load(Path directory, String fileName, Device device) {
        String stem = fileName.substring(0, fileName.length() - ".pt".length());
        Model model = Model.newInstance(stem, device, "PyTorch");
        try {
            model.load(directory, stem);
            return new TorchScriptModule(fileName, model);
        } catch (IOException | MalformedModelException | RuntimeException e) {
            model.close();
            throw new ModelDirectoryException(directory.resolve(fileName) + ": cannot be loaded as TorchScript: "
                    + e.getMessage(), e);
        }
    }

    public String fileName() {
        return fileName;
    }

    public NDList forward(NDList inputs) {
        return model.getBlock().forward(new ParameterStore(inputs.head().getManager(), false), inputs, false);
    }

    @Override
    public void close() {
        model.close();
    }
}
