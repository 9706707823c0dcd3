package io.stipple.pipeline;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import java.util.Arrays;
import java.util.List;

/**
 * Text → the hidden states the U-Net attends to. The tokenizer adds its own BOS/EOS and truncates;
 * padding to {@code text_max_length} with {@code pad_token_id} is done here so that every pipeline pads
 * the way its {@code pipeline.json} says, whatever its tokenizer file would do.
 */
public final class PromptEncoder {
    private final HuggingFaceTokenizer tokenizer;
    private final LoadedPipeline pipeline;
    private final int maxLength;
    private final long padTokenId;

    public PromptEncoder(LoadedPipeline pipeline) {
        this.pipeline = pipeline;
        this.tokenizer = pipeline.tokenizer();
        this.maxLength = pipeline.spec().textMaxLength();
        this.padTokenId = pipeline.spec().padTokenId();
    }

    /** The token ids of one prompt, truncated and padded to {@code text_max_length}. */
    public long[] tokenIds(String prompt) {
        long[] ids = tokenizer.encode(prompt).getIds();
        long[] padded = Arrays.copyOf(ids, maxLength);
        Arrays.fill(padded, Math.min(ids.length, maxLength), maxLength, padTokenId);
        return padded;
    }

    /** float32 [prompts.size(), text_max_length, D], in {@code manager}. */
    public NDArray encode(NDManager manager, List<String> prompts) {
        long[] ids = new long[prompts.size() * maxLength];
        for (int i = 0; i < prompts.size(); i++) {
            System.arraycopy(tokenIds(prompts.get(i)), 0, ids, i * maxLength, maxLength);
        }
        NDArray input = manager.create(ids, new Shape(prompts.size(), maxLength));
        NDArray hidden = pipeline.textEncoder().forward(new NDList(input)).head();
        input.close();
        return hidden;
    }
}
