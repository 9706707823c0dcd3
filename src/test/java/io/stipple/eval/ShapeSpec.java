package io.stipple.eval;

import java.util.Objects;

/** One object as a caption describes it. */
record ShapeSpec(PaletteColor color, ShapeKind shape, SizeClass size, Placement placement) {
    ShapeSpec {
        Objects.requireNonNull(color);
        Objects.requireNonNull(shape);
        Objects.requireNonNull(size);
        Objects.requireNonNull(placement);
    }

    String phrase() {
        StringBuilder words = new StringBuilder("a ");
        if (!size.word().isEmpty()) {
            words.append(size.word()).append(' ');
        }
        words.append(color.word()).append(' ').append(shape.word());
        if (!placement.phrase().isEmpty()) {
            words.append(' ').append(placement.phrase());
        }
        return words.toString();
    }
}
