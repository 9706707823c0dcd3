package io.stipple.eval;

/** What a caption can name. */
enum Attribute {
    BACKGROUND, COLOR, SHAPE, SIZE, POSITION;

    String label() {
        return name().toLowerCase();
    }
}
