package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.TestPipelines;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Prompts → token ids → hidden states, with the tiny fixture's word-level tokenizer and text encoder. */
class PromptEncoderTest {
    private static final int LENGTH = 16;
    private static final long BOS = 1;
    private static final long EOS = 2;
    private static final long UNK = 3;

    private static LoadedPipeline pipeline;
    private static PromptEncoder encoder;
    private static JsonNode vocabulary;

    @BeforeAll
    static void load() {
        pipeline = LoadedPipeline.load(PipelineDirectory.open(TestPipelines.TINY), Device.cpu());
        encoder = new PromptEncoder(pipeline);
        vocabulary = JsonMapper.builder().build()
                .readTree(TestPipelines.TINY.resolve(PipelineDirectory.TOKENIZER).toFile())
                .get("model").get("vocab");
    }

    @AfterAll
    static void close() {
        pipeline.close();
    }

    /** BOS, the words' ids, EOS, then {@code pad} up to the text length. */
    private static long[] expected(long pad, Object... words) {
        long[] ids = new long[LENGTH];
        Arrays.fill(ids, pad);
        ids[0] = BOS;
        for (int i = 0; i < words.length; i++) {
            ids[i + 1] = words[i] instanceof String word ? vocabulary.get(word).asLong() : (Long) words[i];
        }
        ids[words.length + 1] = EOS;
        return ids;
    }

    @Test
    void promptIsWrappedInBosAndEosAndPadded() {
        assertArrayEquals(expected(0, "a", "red", "circle"), encoder.tokenIds("a red circle"));
    }

    @Test
    void emptyPromptIsBosEosAndPadding() {
        // What a guided request without negative_prompt encodes as its unconditional text.
        assertArrayEquals(expected(0), encoder.tokenIds(""));
    }

    @Test
    void wordsAreLowercasedAndUnknownWordsMapToUnk() {
        assertArrayEquals(expected(0, "a", "red", UNK), encoder.tokenIds("A RED Zebra"));
    }

    @Test
    void longPromptIsTruncatedToTheTextLengthKeepingEos() {
        String[] words = new String[30];
        Arrays.fill(words, "cat");
        long[] ids = encoder.tokenIds(String.join(" ", words));

        Object[] kept = new Object[LENGTH - 2];
        Arrays.fill(kept, "cat");
        assertArrayEquals(expected(0, kept), ids);
    }

    @Test
    void paddingUsesThePadTokenIdOfPipelineJson(@TempDir Path directory) {
        TestPipelines.copyTiny(directory);
        TestPipelines.editJson(directory, PipelineDirectory.PIPELINE, spec -> spec.put("pad_token_id", 2));

        try (LoadedPipeline padded = LoadedPipeline.load(PipelineDirectory.open(directory), Device.cpu())) {
            assertArrayEquals(expected(EOS, "a", "cat"), new PromptEncoder(padded).tokenIds("a cat"));
        }
    }

    @Test
    void encodeGivesOneRowOfHiddenStatesPerPrompt() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray hidden = encoder.encode(manager, List.of("a cat", "a dog", "a cat")).hidden();

            assertEquals(new Shape(3, LENGTH, 32), hidden.getShape());
            assertEquals(DataType.FLOAT32, hidden.getDataType());
            assertArrayEquals(hidden.get(0).toFloatArray(), hidden.get(2).toFloatArray());
            assertFalse(Arrays.equals(hidden.get(0).toFloatArray(), hidden.get(1).toFloatArray()));
        }
    }
}
