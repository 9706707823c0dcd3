package io.stipple.eval;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/**
 * A caption of the captioned-shapes grammar: one object, or two objects of which the first lies in
 * the left half of the image and the second in the right half.
 */
record ShapePrompt(PaletteColor background, List<ShapeSpec> objects) {
    // the dataset's weights (src/training/README.md)
    private static final double TWO_OBJECTS = 0.3;
    private static final double POSITION_WORD = 5.0 / 6;

    ShapePrompt {
        objects = List.copyOf(objects);
        if (objects.isEmpty() || objects.size() > 2) {
            throw new IllegalArgumentException("one or two objects, got " + objects.size());
        }
        if (objects.size() == 2 && objects.stream().anyMatch(o -> o.placement() != Placement.ANYWHERE)) {
            throw new IllegalArgumentException("two objects are placed by their order, not by position words");
        }
    }

    /** The canonical caption, word for word as src/training/shapes.py writes it. */
    String caption() {
        return objects.stream().map(ShapeSpec::phrase).collect(Collectors.joining(" and "))
                + " on a " + background.word() + " background";
    }

    /** A prompt drawn like the dataset's captions, so that evaluation prompts are in distribution. */
    static ShapePrompt random(SplittableRandom random) {
        PaletteColor background = pick(random, PaletteColor.values());
        if (random.nextDouble() < TWO_OBJECTS) {
            return new ShapePrompt(background, List.of(
                    randomObject(random, background, SizeClass.MEDIUM, Placement.ANYWHERE),
                    randomObject(random, background, SizeClass.MEDIUM, Placement.ANYWHERE)));
        }
        SizeClass size = pick(random, SizeClass.values());
        Placement placement = Placement.ANYWHERE;
        if (random.nextDouble() < POSITION_WORD) {
            placement = Placement.values()[random.nextInt(Placement.ANYWHERE.ordinal())];
        }
        return new ShapePrompt(background, List.of(randomObject(random, background, size, placement)));
    }

    private static ShapeSpec randomObject(SplittableRandom random, PaletteColor background, SizeClass size,
                                          Placement placement) {
        // object colors skip the background's; the two objects of a scene may share a color
        PaletteColor color = PaletteColor.values()[random.nextInt(PaletteColor.values().length - 1)];
        if (color.ordinal() >= background.ordinal()) {
            color = PaletteColor.values()[color.ordinal() + 1];
        }
        return new ShapeSpec(color, pick(random, ShapeKind.values()), size, placement);
    }

    private static <T> T pick(SplittableRandom random, T[] values) {
        return values[random.nextInt(values.length)];
    }
}
