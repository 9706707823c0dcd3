package io.stipple.pipeline;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.model.TorchScriptModule;
import java.util.Arrays;
import java.util.List;

/**
 * Text → what the U-Net attends to. The tokenizer adds its own BOS/EOS and truncates; padding to
 * {@code text_max_length} with the pad id of {@code pipeline.json} is done here, so that every pipeline pads the
 * way its contract says, whatever its tokenizer file would do. SDXL has two tokenizers and encoders: their hidden
 * states are concatenated on the feature axis (encoder 1's first), and the second gives the pooled embeddings.
 */
public final class PromptEncoder {
    private final LoadedPipeline pipeline;
    private final int maxLength;

    public PromptEncoder(LoadedPipeline pipeline) {
        this.pipeline = pipeline;
        this.maxLength = pipeline.spec().textMaxLength();
    }

    /** What the encoders give for some prompts: hidden states [N, L, D] and, for SDXL, pooled embeddings [N, P]. */
    public record EncodedText(NDArray hidden, NDArray pooled) {
    }

    /** The first tokenizer's ids of one prompt, truncated and padded to {@code text_max_length}. */
    public long[] tokenIds(String prompt) {
        return tokenIds(pipeline.tokenizer(), pipeline.spec().padTokenId(), prompt);
    }

    /** The second tokenizer's ids (SDXL's, which pads with its own pad id). */
    public long[] tokenIds2(String prompt) {
        return tokenIds(pipeline.tokenizers().get(1), pipeline.spec().padTokenId2(), prompt);
    }

    private long[] tokenIds(HuggingFaceTokenizer tokenizer, long padTokenId, String prompt) {
        long[] ids = tokenizer.encode(prompt).getIds();
        long[] padded = Arrays.copyOf(ids, maxLength);
        Arrays.fill(padded, Math.min(ids.length, maxLength), maxLength, padTokenId);
        return padded;
    }

    /** The prompts' rows in one call of each encoder, every row at the usual layer. */
    public EncodedText encode(NDManager manager, List<String> prompts) {
        return encode(manager, prompts, new long[prompts.size()]);
    }

    /**
     * The prompts' rows in one call of each encoder, in {@code manager}; row i's hidden states come {@code clipSkips[i]}
     * layers before the usual ones (only where the pipeline's {@code max_clip_skip} allows any).
     */
    public EncodedText encode(NDManager manager, List<String> prompts, long[] clipSkips) {
        PipelineSpec spec = pipeline.spec();
        NDArray skips = Arrays.stream(clipSkips).anyMatch(skip -> skip != 0) ? manager.create(clipSkips) : null;
        NDArray hidden = call(pipeline.textEncoder(), ids(manager, pipeline.tokenizer(), spec.padTokenId(), prompts),
                skips).head();
        if (pipeline.textEncoder2().isEmpty()) {
            return new EncodedText(hidden, null);
        }
        NDList second = call(pipeline.textEncoder2().get(),
                ids(manager, pipeline.tokenizers().get(1), spec.padTokenId2(), prompts), skips);
        return new EncodedText(NDArrays.concat(new NDList(hidden, second.get(0)), 2), second.get(1));
    }

    private NDArray ids(NDManager manager, HuggingFaceTokenizer tokenizer, long padTokenId, List<String> prompts) {
        long[] ids = new long[prompts.size() * maxLength];
        for (int i = 0; i < prompts.size(); i++) {
            System.arraycopy(tokenIds(tokenizer, padTokenId, prompts.get(i)), 0, ids, i * maxLength, maxLength);
        }
        return manager.create(ids, new Shape(prompts.size(), maxLength));
    }

    /** The encoder on {@code ids}, with {@code clip_skip} as its second input when some row skips layers. */
    private static NDList call(TorchScriptModule encoder, NDArray ids, NDArray skips) {
        return encoder.forward(skips == null ? new NDList(ids) : new NDList(ids, skips));
    }
}
