package io.stipple.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * An image's noise stream whose draws since the last {@link #commit()} can be given back: a step that fails
 * after drawing (a batch whose update fails part-way) is stepped again with the same draws, so the image stays
 * on the walk it would have taken alone.
 */
public final class RewindableNoise implements NoiseSource {
    private final NoiseSource stream;
    private final List<float[]> uncommitted = new ArrayList<>();
    private final Deque<float[]> rewound = new ArrayDeque<>();

    public RewindableNoise(NoiseSource stream) {
        this.stream = stream;
    }

    @Override
    public NDArray standardNormal(NDManager manager, Shape shape) {
        if (rewound.isEmpty()) {
            NDArray draw = stream.standardNormal(manager, shape);
            uncommitted.add(draw.toFloatArray());
            return draw;
        }
        float[] draw = rewound.poll();
        if (draw.length != shape.size()) {
            throw new IllegalStateException("a rewound draw of " + draw.length + " values asked for as " + shape);
        }
        uncommitted.add(draw);
        return manager.create(draw, shape);
    }

    /** The draws so far are taken for good. */
    public void commit() {
        uncommitted.clear();
    }

    /** The draws since the last commit are given again, in order, before any fresh one. */
    public void rewind() {
        for (int i = uncommitted.size() - 1; i >= 0; i--) {
            rewound.push(uncommitted.get(i));
        }
        uncommitted.clear();
    }
}
