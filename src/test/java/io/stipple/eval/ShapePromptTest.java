package io.stipple.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ShapePromptTest {
    private static List<ShapePrompt> draw(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        return IntStream.range(0, count).mapToObj(i -> ShapePrompt.random(random)).toList();
    }

    @Test
    void isDeterministicPerSeed() {
        assertEquals(draw(42, 200), draw(42, 200));
        assertNotEquals(draw(42, 200), draw(43, 200));
    }

    @Test
    void coversEveryFormOfTheGrammar() {
        List<ShapePrompt> prompts = draw(1, 3000);
        Set<List<Object>> forms = new HashSet<>();
        Set<PaletteColor> backgrounds = EnumSet.noneOf(PaletteColor.class);
        Set<PaletteColor> colors = EnumSet.noneOf(PaletteColor.class);
        Set<ShapeKind> shapes = EnumSet.noneOf(ShapeKind.class);
        boolean sameColors = false;
        for (ShapePrompt prompt : prompts) {
            ShapeSpec first = prompt.objects().get(0);
            forms.add(List.of(prompt.objects().size(), first.size(), first.placement()));
            backgrounds.add(prompt.background());
            for (ShapeSpec object : prompt.objects()) {
                assertNotEquals(prompt.background(), object.color(), prompt.caption());
                colors.add(object.color());
                shapes.add(object.shape());
            }
            if (prompt.objects().size() == 2) {
                assertEquals(List.of(SizeClass.MEDIUM, SizeClass.MEDIUM),
                        prompt.objects().stream().map(ShapeSpec::size).toList());
                sameColors |= first.color() == prompt.objects().get(1).color();
            }
        }
        assertEquals(SizeClass.values().length * Placement.values().length + 1, forms.size(), forms.toString());
        assertEquals(EnumSet.allOf(PaletteColor.class), backgrounds);
        assertEquals(EnumSet.allOf(PaletteColor.class), colors);
        assertEquals(EnumSet.allOf(ShapeKind.class), shapes);
        assertTrue(sameColors, "the two objects may share a color");
    }

    @Test
    void followsTheDatasetWeights() {
        List<ShapePrompt> prompts = draw(5, 6000);
        long two = prompts.stream().filter(p -> p.objects().size() == 2).count();
        long withPosition = prompts.stream()
                .filter(p -> p.objects().get(0).placement() != Placement.ANYWHERE).count();
        long small = prompts.stream()
                .filter(p -> p.objects().size() == 1 && p.objects().get(0).size() == SizeClass.SMALL).count();
        // binomial standard errors are below 0.6%; allow about four of them
        assertEquals(0.30, two / 6000.0, 0.025);
        assertEquals(0.70 * 5 / 6, withPosition / 6000.0, 0.025);
        assertEquals(0.70 / 3, small / 6000.0, 0.025);
    }

    @Test
    void twoObjectsTakeNoPositionWords() {
        ShapeSpec left = new ShapeSpec(PaletteColor.RED, ShapeKind.CIRCLE, SizeClass.MEDIUM, Placement.LEFT);
        ShapeSpec plain = new ShapeSpec(PaletteColor.RED, ShapeKind.CIRCLE, SizeClass.MEDIUM, Placement.ANYWHERE);
        assertThrows(IllegalArgumentException.class, () -> new ShapePrompt(PaletteColor.BLUE, List.of(left, plain)));
        assertEquals("a red circle and a red circle on a blue background",
                new ShapePrompt(PaletteColor.BLUE, List.of(plain, plain)).caption());
    }
}
