package io.stipple.eval;

/**
 * One attribute of a caption checked against the image.
 *
 * @param object   0 for the background, else the object's place in the caption from 1
 * @param found    what the image shows; "none" when it shows no object, "unclear" for a shape that
 *                 is none of the three
 */
record Check(int object, Attribute attribute, String expected, String found) {
    boolean right() {
        return expected.equals(found);
    }

    @Override
    public String toString() {
        String subject = object == 0 ? "" : "object " + object + " ";
        return subject + attribute.label() + ": expected " + expected + ", found " + found
                + (right() ? "" : " (wrong)");
    }
}
