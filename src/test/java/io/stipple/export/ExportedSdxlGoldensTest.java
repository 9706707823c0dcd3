package io.stipple.export;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.PromptEncoder;
import io.stipple.pipeline.SizeConditioning;
import io.stipple.testing.Npz;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * sdxl-tiny (SDXL base's structure, made independently of the exporter with diffusers v0.25.1's classes and
 * transcriptions of transformers' CLIP; its README says how) exported by {@code export_diffusers.py} computes,
 * through DJL's libtorch, what the reference computed: both text encoders at their penultimate layer, the second's
 * pooled text_embeds, clip skip as a second input, the U-Net with SDXL's text_embeds and time ids, the VAE, and
 * {@code StableDiffusionXLPipeline.encode_prompt} through the server's own {@link PromptEncoder} and the time ids
 * through {@link SizeConditioning}. Every array of the golden file is fed or checked.
 */
class ExportedSdxlGoldensTest {
    private static final String REFERENCE = "sdxl-tiny";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void everyModuleMatchesItsGolden() {
        Path pipeline = Exporter.exported(REFERENCE);
        JsonNode meta = JSON.readTree(Exporter.SD_REFERENCE.resolve(REFERENCE).resolve("golden.json").toFile());
        Npz golden = Npz.read(Exporter.SD_REFERENCE.resolve(REFERENCE).resolve("golden.npz"));
        try (NDManager manager = NDManager.newBaseManager(Device.cpu());
                Goldens goldens = new Goldens(golden, manager, pipeline);
                LoadedPipeline loaded = LoadedPipeline.load(PipelineDirectory.open(pipeline), Device.cpu())) {
            PipelineSpec spec = loaded.spec();
            assertTrue(spec.twoTextEncoders() && spec.textTimeConditioning() && spec.zeroesMissingNegativePrompt());
            assertEquals(1, spec.maxClipSkipOrDefault(), "3 layers: hidden_states[-3] is the first layer's");
            textEncoders(goldens, manager);
            encodePrompt(goldens, new PromptEncoder(loaded), meta.get("encode_prompt_cases"), manager);
            timeIds(goldens, meta.get("add_time_ids_cases"));
            goldens.unetCases(spec);
            goldens.vae();
            goldens.assertAllUsed(REFERENCE);
        }
    }

    /**
     * hidden_states[-2] (not the last, normed layer) from both encoders, the pooled projection from the second;
     * with clip_skip 1 hidden_states[-3] and the same pooled embeddings; clip_skip 0 to the bit the one-input call.
     */
    private static void textEncoders(Goldens goldens, NDManager manager) {
        NDArray ids = goldens.ids("tokenizer.input_ids");
        NDArray ones = manager.ones(new Shape(ids.getShape().get(0)), DataType.INT64);
        NDArray penultimate = goldens.call(PipelineDirectory.TEXT_ENCODER, ids).head();
        goldens.output("text_encoder.hidden_states_m2", penultimate);
        goldens.differs("text_encoder.last_hidden_state", penultimate, 1e-2);
        goldens.output("text_encoder.hidden_states_m3", goldens.call(PipelineDirectory.TEXT_ENCODER, ids, ones).head());
        assertTrue(penultimate.contentEquals(goldens.call(PipelineDirectory.TEXT_ENCODER, ids, ones.zerosLike()).head()));

        NDArray ids2 = goldens.ids("tokenizer_2.input_ids");
        NDList second = goldens.call(PipelineDirectory.TEXT_ENCODER_2, ids2);
        assertEquals(2, second.size(), "text_encoder_2.pt returns (hidden states, text_embeds)");
        goldens.output("text_encoder_2.hidden_states_m2", second.get(0));
        goldens.output("text_encoder_2.text_embeds", second.get(1));
        NDList skipped = goldens.call(PipelineDirectory.TEXT_ENCODER_2, ids2, ones);
        goldens.output("text_encoder_2.hidden_states_m3", skipped.get(0));
        assertTrue(skipped.get(1).contentEquals(second.get(1)), "clip skip never moves the pooled embeddings");
    }

    /**
     * diffusers' encode_prompt cases through the server's PromptEncoder: its token ids are diffusers', its hidden
     * states (encoder 1's, then 2's) and pooled embeddings too, with clip skip for the prompt only; a negative prompt
     * that is None gives diffusers zeros (force_zeros_for_empty_prompt), which the server's conditioning supplies.
     */
    private static void encodePrompt(Goldens goldens, PromptEncoder encoder, JsonNode cases, NDManager manager) {
        for (JsonNode c : cases) {
            String prefix = "encode_prompt." + c.get("name").asString() + ".";
            int clipSkip = c.get("clip_skip").isNull() ? 0 : c.get("clip_skip").asInt();
            encoded(goldens, encoder, manager, c.get("prompt").asString(), clipSkip, prefix, "");
            if (c.get("negative_prompt").isNull()) {
                goldens.zeros(prefix + "negative_prompt_embeds");
                goldens.zeros(prefix + "negative_pooled_prompt_embeds");
            } else {
                encoded(goldens, encoder, manager, c.get("negative_prompt").asString(), 0, prefix, "negative_");
            }
        }
    }

    private static void encoded(Goldens goldens, PromptEncoder encoder, NDManager manager, String prompt, int clipSkip,
            String prefix, String negative) {
        assertArrayEquals(goldens.ids(prefix + negative + "input_ids").toLongArray(), encoder.tokenIds(prompt), prompt);
        assertArrayEquals(goldens.ids(prefix + negative + "input_ids_2").toLongArray(), encoder.tokenIds2(prompt), prompt);
        PromptEncoder.EncodedText text = encoder.encode(manager, List.of(prompt), new long[] {clipSkip});
        goldens.output(prefix + negative + "prompt_embeds", text.hidden());
        goldens.output(prefix + (negative.isEmpty() ? "pooled_" : "negative_pooled_") + "prompt_embeds", text.pooled());
    }

    /** diffusers' _get_add_time_ids: heights before widths, tops before lefts; an image's own size by default. */
    private static void timeIds(Goldens goldens, JsonNode cases) {
        for (JsonNode c : cases) {
            int[] original = ints(c.get("original_size"));
            int[] crop = ints(c.get("crops_coords_top_left"));
            int[] target = ints(c.get("target_size"));
            String name = "add_time_ids." + c.get("name").asString();
            goldens.values(name, new SizeConditioning(original[0], original[1], crop[0], crop[1], target[0], target[1])
                    .timeIds(), 0);
            if (Arrays.equals(original, target) && crop[0] == 0 && crop[1] == 0) {
                goldens.values(name, SizeConditioning.of(target[1], target[0]).timeIds(), 0);
            }
        }
    }

    private static int[] ints(JsonNode pair) {
        return new int[] {pair.get(0).asInt(), pair.get(1).asInt()};
    }

    /** Both tokenizer files are transformers' conversions, and give through DJL and the server's padding its ids. */
    @Test
    void bothTokenizersGiveTheGoldenIds() {
        Path pipeline = Exporter.exported(REFERENCE);
        Path reference = Exporter.SD_REFERENCE.resolve(REFERENCE);
        for (String file : List.of(PipelineDirectory.TOKENIZER, PipelineDirectory.TOKENIZER_2)) {
            assertEquals(JSON.readTree(reference.resolve("expected_" + file).toFile()),
                    JSON.readTree(pipeline.resolve(file).toFile()), file);
        }
        Npz golden = Npz.read(reference.resolve("golden.npz"));
        JsonNode prompts = JSON.readTree(reference.resolve("golden.json").toFile()).get("prompts");
        try (LoadedPipeline loaded = LoadedPipeline.load(PipelineDirectory.open(pipeline), Device.cpu())) {
            PromptEncoder encoder = new PromptEncoder(loaded);
            long[] first = golden.get("tokenizer.input_ids").longs();
            long[] second = golden.get("tokenizer_2.input_ids").longs();
            for (int i = 0; i < prompts.size(); i++) {
                String prompt = prompts.get(i).get("text").asString();
                String what = prompts.get(i).get("name").asString() + ": " + prompt;
                assertArrayEquals(Arrays.copyOfRange(first, i * 77, (i + 1) * 77), encoder.tokenIds(prompt), what);
                assertArrayEquals(Arrays.copyOfRange(second, i * 77, (i + 1) * 77), encoder.tokenIds2(prompt), what);
            }
        }
    }
}
