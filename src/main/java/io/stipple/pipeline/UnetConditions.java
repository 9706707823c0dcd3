package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * What one U-Net row is conditioned on: the U-Net's inputs after the sample and the timestep, one row each, in the
 * U-Net's order. The text's hidden states for every family; for SDXL also its pooled text embeddings and the six
 * time ids (diffusers' {@code added_cond_kwargs}). Rows of any requests with the same inputs' shapes batch into one
 * call by concatenating each input.
 *
 * @param inputs each {@code [1, …]}
 */
public record UnetConditions(List<NDArray> inputs) {

    public UnetConditions {
        inputs = List.copyOf(inputs);
    }

    /** The text's hidden states alone, as SD 1.x and 2.x U-Nets take them. */
    public static UnetConditions of(NDArray hiddenStates) {
        return new UnetConditions(List.of(hiddenStates));
    }

    /** These inputs, then {@code more}. */
    public UnetConditions with(List<NDArray> more) {
        List<NDArray> all = new ArrayList<>(inputs);
        all.addAll(more);
        return new UnetConditions(all);
    }
}
