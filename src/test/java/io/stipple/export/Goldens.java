package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.PipelineSpec;
import io.stipple.model.TorchScriptModule;
import io.stipple.pipeline.GuidanceEmbedding;
import io.stipple.testing.Npz;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One golden file read against an exported pipeline through DJL: which arrays were fed or checked, and how close
 * (max |actual − golden| / max |golden|). The U-Net and VAE cases are the same for every reference.
 */
final class Goldens implements AutoCloseable {
    static final double TOLERANCE = 1e-4;
    private static final Pattern UNET_CASE = Pattern.compile("unet\\.(\\w+)\\.out");
    private static final Pattern VAE_DECODE = Pattern.compile("(vae\\.decode\\w*)\\.out");

    private final Npz golden;
    private final NDManager manager;
    private final Path pipeline;
    private final Map<String, TorchScriptModule> modules = new HashMap<>();
    private final Set<String> used = new TreeSet<>();
    private final List<String> report = new ArrayList<>();

    Goldens(Npz golden, NDManager manager, Path pipeline) {
        this.golden = golden;
        this.manager = manager;
        this.pipeline = pipeline;
    }

    boolean has(String name) {
        return golden.has(name);
    }

    float[] floats(String name) {
        return use(name).floats();
    }

    NDArray input(String name) {
        Npz.Array array = use(name);
        return manager.create(array.floats(), new Shape(array.shape()));
    }

    NDArray ids(String name) {
        Npz.Array array = use(name);
        return manager.create(array.longs(), new Shape(array.shape()));
    }

    /** {@code file} of the export on {@code inputs}: every output, one per tensor of a tuple. */
    NDList call(String file, NDArray... inputs) {
        TorchScriptModule module = modules.computeIfAbsent(file, f -> TorchScriptModule.load(pipeline, f, Device.cpu()));
        return module.forward(new NDList(inputs));
    }

    /** {@code file} of the export on {@code inputs} against the golden {@code name}. */
    void module(String file, String name, NDArray... inputs) {
        output(name, call(file, inputs).head());
    }

    /** An output computed here against the golden {@code name}: its shape and values. */
    void output(String name, NDArray output) {
        assertEquals(new Shape(golden.get(name).shape()), output.getShape(), name);
        values(name, output.toFloatArray(), TOLERANCE);
    }

    /** Values computed here against the golden {@code name}: max |actual − golden| / max |golden| ≤ tolerance. */
    void values(String name, float[] actual, double tolerance) {
        double relative = relativeError(actual, use(name).floats());
        assertTrue(relative <= tolerance, name + ": relative error " + relative + " > " + tolerance);
        report.add(String.format("%s %.1e", name, relative));
    }

    /** The golden {@code name} is all zeros, as what the server gives in its place is. */
    void zeros(String name) {
        for (float value : use(name).floats()) {
            assertEquals(0f, value, name);
        }
        report.add(name + " zeros");
    }

    /** The golden {@code name} is of another layer than {@code output}: they must differ by more than {@code least}. */
    void differs(String name, NDArray output, double least) {
        double relative = relativeError(output.toFloatArray(), use(name).floats());
        assertTrue(relative > least, name + " is what a wrong layer gives, yet the output is within " + relative);
        report.add(String.format("%s differs by %.1e", name, relative));
    }

    private static double relativeError(float[] actual, float[] reference) {
        assertEquals(reference.length, actual.length);
        double scale = 0;
        double error = 0;
        for (int i = 0; i < reference.length; i++) {
            scale = Math.max(scale, Math.abs(reference[i]));
            error = Math.max(error, Math.abs(actual[i] - reference[i]));
        }
        return error / scale;
    }

    /**
     * Every {@code unet.X.out} case: the sample with the channels the spec says, SDXL's pooled embeddings and time
     * ids after the hidden states where the U-Net takes them, and for a guidance-embedded U-Net the embedding the
     * server computes from each row's guidance scale (diffusers' own in the golden), also all zeros where diffusers
     * ran without timestep_cond.
     */
    void unetCases(PipelineSpec spec) {
        for (String name : new TreeSet<>(golden.names())) {
            Matcher unetCase = UNET_CASE.matcher(name);
            if (unetCase.matches()) {
                unet(spec, "unet." + unetCase.group(1) + ".");
            }
        }
    }

    private void unet(PipelineSpec spec, String prefix) {
        NDArray sample = input(prefix + "sample");
        assertEquals(spec.unetInChannelsOrDefault(), sample.getShape().get(1), prefix + "sample's channels");
        List<NDArray> inputs = new ArrayList<>(List.of(sample, input(prefix + "timestep"),
                input(prefix + "encoder_hidden_states")));
        assertEquals(spec.textTimeConditioning(), has(prefix + "time_ids"), prefix + "time_ids");
        if (spec.textTimeConditioning()) {
            inputs.add(input(prefix + "text_embeds"));
            inputs.add(input(prefix + "time_ids"));
        }
        assertEquals(spec.guidanceEmbedded(), has(prefix + "timestep_cond"), prefix + "timestep_cond");
        if (spec.guidanceEmbedded()) {
            float[] scales = floats(prefix + "guidance_scale");
            values(prefix + "timestep_cond", embeddings(spec, scales, 0.0), embeddingTolerance(scales, -1.0));
            inputs.add(input(prefix + "timestep_cond"));
        }
        module(PipelineDirectory.UNET, prefix + "out", inputs.toArray(NDArray[]::new));
        if (has(prefix + "out_without_timestep_cond")) {
            inputs.set(inputs.size() - 1, inputs.get(inputs.size() - 1).zerosLike());
            module(PipelineDirectory.UNET, prefix + "out_without_timestep_cond", inputs.toArray(NDArray[]::new));
        }
    }

    /** The server's guidance embedding for diffusers' {@code guidance.w} cases, where the golden has them. */
    void guidanceEmbedding(PipelineSpec spec) {
        if (has("guidance.embedding")) {
            float[] w = floats("guidance.w");
            values("guidance.embedding", embeddings(spec, w, 1.0), embeddingTolerance(w, 0.0));
        }
    }

    /**
     * The embedding's sines and cosines are of arguments up to 1000·w radians, where one float32 ulp is already
     * 5e-4 at w = 7.5: torch's vectorised exp leaves a frequency an ulp away from a correctly rounded one, which
     * moves such an argument by about an ulp. Two ulps of the largest argument is agreement.
     */
    private static double embeddingTolerance(float[] values, double offset) {
        double largest = 0;
        for (float value : values) {
            largest = Math.max(largest, Math.abs(1000 * (value + offset)));
        }
        return 2 * Math.ulp((float) largest);
    }

    /** The server's guidance embedding, one row per guidance scale {@code offset + values[i]}. */
    private static float[] embeddings(PipelineSpec spec, float[] values, double offset) {
        GuidanceEmbedding embedding = GuidanceEmbedding.of(spec).orElseThrow();
        float[] rows = new float[values.length * embedding.dim()];
        for (int i = 0; i < values.length; i++) {
            embedding.write(values[i] + offset, rows, i * embedding.dim());
        }
        return rows;
    }

    /** Every {@code vae.decode*.out} case and the encoder's mean. */
    void vae() {
        for (String name : new TreeSet<>(golden.names())) {
            Matcher decode = VAE_DECODE.matcher(name);
            if (decode.matches()) {
                module(PipelineDirectory.VAE_DECODER, name, input(decode.group(1) + ".z"));
            }
        }
        if (has("vae.encode.mean")) {
            module(PipelineDirectory.VAE_ENCODER, "vae.encode.mean", input("vae.encode.x"));
        }
    }

    private Npz.Array use(String name) {
        used.add(name);
        return golden.get(name);
    }

    /** Fails unless every array of the golden file was fed or checked: a golden a test skips silently is a defect. */
    void assertAllUsed(String reference) {
        assertEquals(new TreeSet<>(golden.names()), used, reference + ": arrays left unchecked");
        System.out.println(reference + " through DJL, max |out − golden| / max |golden|: " + report);
    }

    @Override
    public void close() {
        modules.values().forEach(TorchScriptModule::close);
    }
}
