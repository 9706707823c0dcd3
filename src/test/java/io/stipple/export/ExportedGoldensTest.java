package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.PipelineSpec;
import io.stipple.model.TorchScriptModule;
import io.stipple.pipeline.GuidanceEmbedding;
import io.stipple.pipeline.PromptEncoder;
import io.stipple.testing.Npz;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A diffusers checkpoint exported by {@code src/tools/export/export_diffusers.py} computes, through DJL's
 * libtorch, what diffusers' and transformers' own classes computed for it (the goldens beside each checkpoint
 * in {@code src/test/resources/sd-reference}): the tokenizer's ids exactly, every module's output to 1e-4 of
 * its scale. sd15-tiny is SD 1.x-shaped (quick_gelu CLIP, conv projections, 8 heads, PNDM config); sd2-tiny
 * SD 2.x-shaped (gelu, "!" padding, per-level heads, linear projections, upcast attention, v-prediction,
 * float16 and .bin weights, the VAE's old attention names); lcm-tiny an LCM-distilled U-Net whose unet.pt takes
 * the guidance embedding as a 4th input (timestep_cond), which the server computes from the guidance scale;
 * inpaint-tiny an inpainting U-Net of 9 input channels (latent, mask, masked-image latent). Every array of a
 * golden file is fed or checked, so a golden that a test would silently skip fails it.
 */
class ExportedGoldensTest {
    private static final double TOLERANCE = 1e-4;
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern UNET_CASE = Pattern.compile("unet\\.(\\w+)\\.out");
    private static final Pattern VAE_DECODE = Pattern.compile("(vae\\.decode\\w*)\\.out");

    @ParameterizedTest
    @ValueSource(strings = {"sd15-tiny", "sd2-tiny", "lcm-tiny", "inpaint-tiny"})
    void everyModuleMatchesItsGolden(String reference) {
        Path pipeline = Exporter.exported(reference);
        PipelineSpec spec = PipelineDirectory.open(pipeline).spec();
        Npz golden = Npz.read(Exporter.SD_REFERENCE.resolve(reference).resolve("golden.npz"));
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            Goldens goldens = new Goldens(golden, manager, pipeline);
            for (String ids : List.of("tokenizer.input_ids", "text.input_ids")) {
                if (golden.has(ids)) {
                    String hidden = ids.startsWith("text.") ? "text.last_hidden_state" : "text_encoder.last_hidden_state";
                    goldens.module(PipelineDirectory.TEXT_ENCODER, hidden, goldens.ids(ids));
                }
            }
            for (String name : new TreeSet<>(golden.names())) {
                Matcher unetCase = UNET_CASE.matcher(name);
                if (unetCase.matches()) {
                    unet(goldens, spec, "unet." + unetCase.group(1) + ".");
                }
                Matcher decode = VAE_DECODE.matcher(name);
                if (decode.matches()) {
                    goldens.module(PipelineDirectory.VAE_DECODER, name, goldens.input(decode.group(1) + ".z"));
                }
            }
            if (golden.has("vae.encode.mean")) {
                goldens.module(PipelineDirectory.VAE_ENCODER, "vae.encode.mean", goldens.input("vae.encode.x"));
            }
            if (golden.has("guidance.embedding")) {
                float[] w = goldens.floats("guidance.w");
                goldens.values("guidance.embedding", embeddings(spec, w, 1.0), embeddingTolerance(w, 0.0));
            }
            assertEquals(new TreeSet<>(golden.names()), goldens.used(), reference + ": arrays left unchecked");
            System.out.println(reference + " through DJL, max |out − golden| / max |golden|: " + goldens.report());
        }
    }

    /**
     * The exported U-Net on one golden case: an inpainting export takes the sample's 9 channels as its spec says,
     * and a guidance-embedded one the embedding the server computes from each row's guidance scale (diffusers'
     * own embedding in the golden), also all zeros where diffusers ran without timestep_cond.
     */
    private static void unet(Goldens goldens, PipelineSpec spec, String prefix) {
        NDArray sample = goldens.input(prefix + "sample");
        assertEquals(spec.unetInChannelsOrDefault(), sample.getShape().get(1), prefix + "sample's channels");
        List<NDArray> inputs = new ArrayList<>(List.of(sample, goldens.input(prefix + "timestep"),
                goldens.input(prefix + "encoder_hidden_states")));
        assertEquals(spec.guidanceEmbedded(), goldens.has(prefix + "timestep_cond"), prefix + "timestep_cond");
        if (spec.guidanceEmbedded()) {
            float[] scales = goldens.floats(prefix + "guidance_scale");
            goldens.values(prefix + "timestep_cond", embeddings(spec, scales, 0.0), embeddingTolerance(scales, -1.0));
            inputs.add(goldens.input(prefix + "timestep_cond"));
        }
        goldens.module(PipelineDirectory.UNET, prefix + "out", inputs.toArray(NDArray[]::new));
        if (goldens.has(prefix + "out_without_timestep_cond")) {
            inputs.set(3, inputs.get(3).zerosLike());
            goldens.module(PipelineDirectory.UNET, prefix + "out_without_timestep_cond", inputs.toArray(NDArray[]::new));
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

    /** The tokenizer.json the exporter built gives, through DJL's tokenizers and the server's padding, CLIP's ids. */
    @Test
    void theBuiltTokenizerGivesClipsIds() throws Exception {
        Path pipeline = Exporter.exported("sd15-tiny");
        Path reference = Exporter.SD_REFERENCE.resolve("sd15-tiny");
        Npz.Array expected = Npz.read(reference.resolve("golden.npz")).get("tokenizer.input_ids");
        JsonNode prompts = JSON.readTree(reference.resolve("golden.json").toFile()).get("prompts");
        assertEquals(JSON.readTree(reference.resolve("expected_tokenizer.json").toFile()),
                JSON.readTree(pipeline.resolve(PipelineDirectory.TOKENIZER).toFile()));
        long[] ids = expected.longs();
        int length = (int) expected.shape()[1];
        try (LoadedPipeline loaded = LoadedPipeline.load(PipelineDirectory.open(pipeline), Device.cpu())) {
            PromptEncoder encoder = new PromptEncoder(loaded);
            for (int i = 0; i < prompts.size(); i++) {
                String prompt = prompts.get(i).get("text").asString();
                long[] row = Arrays.copyOfRange(ids, i * length, (i + 1) * length);
                assertArrayEquals(row, encoder.tokenIds(prompt), prompts.get(i).get("name").asString() + ": " + prompt);
            }
        }
    }

    /** One golden file read against an exported pipeline: which arrays were fed or checked, and how close. */
    private static final class Goldens {
        private final Npz golden;
        private final NDManager manager;
        private final Path pipeline;
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

        /** {@code file} of the export on {@code inputs} against the golden {@code name}. */
        void module(String file, String name, NDArray... inputs) {
            try (TorchScriptModule module = TorchScriptModule.load(pipeline, file, Device.cpu())) {
                NDArray output = module.forward(new NDList(inputs)).head();
                assertEquals(new Shape(golden.get(name).shape()), output.getShape(), name);
                values(name, output.toFloatArray(), TOLERANCE);
            }
        }

        /** Values computed here against the golden {@code name}: max |actual − golden| / max |golden| ≤ tolerance. */
        void values(String name, float[] actual, double tolerance) {
            float[] reference = use(name).floats();
            assertEquals(reference.length, actual.length, name);
            double scale = 0;
            double error = 0;
            for (int i = 0; i < reference.length; i++) {
                scale = Math.max(scale, Math.abs(reference[i]));
                error = Math.max(error, Math.abs(actual[i] - reference[i]));
            }
            double relative = error / scale;
            assertTrue(relative <= tolerance, name + ": relative error " + relative + " > " + tolerance);
            report.add(String.format("%s %.1e", name, relative));
        }

        private Npz.Array use(String name) {
            used.add(name);
            return golden.get(name);
        }

        Set<String> used() {
            return used;
        }

        List<String> report() {
            return report;
        }
    }
}
