package io.stipple.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CaptionGrammarTest {
    private static ShapePrompt one(PaletteColor background, PaletteColor color, ShapeKind shape, SizeClass size,
                                   Placement placement) {
        return new ShapePrompt(background, List.of(new ShapeSpec(color, shape, size, placement)));
    }

    @Test
    void readsTheSingleObjectForm() {
        assertEquals(one(PaletteColor.BLUE, PaletteColor.RED, ShapeKind.CIRCLE, SizeClass.MEDIUM, Placement.ANYWHERE),
                CaptionGrammar.parse("a red circle on a blue background"));
        assertEquals(one(PaletteColor.WHITE, PaletteColor.BLACK, ShapeKind.TRIANGLE, SizeClass.SMALL, Placement.TOP),
                CaptionGrammar.parse("a small black triangle at the top on a white background"));
        assertEquals(one(PaletteColor.GRAY, PaletteColor.YELLOW, ShapeKind.SQUARE, SizeClass.LARGE, Placement.ANYWHERE),
                CaptionGrammar.parse("a large yellow square on a gray background"));
    }

    @Test
    void readsEveryPosition() {
        for (Placement placement : Placement.values()) {
            ShapePrompt prompt = one(PaletteColor.GREEN, PaletteColor.ORANGE, ShapeKind.SQUARE, SizeClass.SMALL,
                    placement);
            assertEquals(prompt, CaptionGrammar.parse(prompt.caption()), prompt.caption());
        }
    }

    @Test
    void readsTheTwoObjectForm() {
        assertEquals(new ShapePrompt(PaletteColor.YELLOW, List.of(
                        new ShapeSpec(PaletteColor.PURPLE, ShapeKind.SQUARE, SizeClass.MEDIUM, Placement.ANYWHERE),
                        new ShapeSpec(PaletteColor.PURPLE, ShapeKind.CIRCLE, SizeClass.MEDIUM, Placement.ANYWHERE))),
                CaptionGrammar.parse("a purple square and a purple circle on a yellow background"));
    }

    @Test
    void readsSynonymsAndTheTerseForm() {
        ShapePrompt expected = one(PaletteColor.GRAY, PaletteColor.PURPLE, ShapeKind.CIRCLE, SizeClass.LARGE,
                Placement.CENTER);
        for (String caption : List.of("a big violet disk in the middle on a grey background",
                "large purple disc in the centre, gray background",
                "A Large Purple Circle In The Center On A Gray Background.",
                "a gray background with a large purple circle in the center")) {
            assertEquals(expected, CaptionGrammar.parse(caption), caption);
        }
        assertEquals(SizeClass.SMALL, CaptionGrammar.parse("a tiny red square, blue background").objects().get(0).size());
        assertEquals(SizeClass.SMALL, CaptionGrammar.parse("a little red square on a blue background").objects().get(0)
                .size());
        assertEquals(PaletteColor.ORANGE, CaptionGrammar.parse("a red square on an orange background").background());
        assertEquals(Placement.LEFT, CaptionGrammar.parse("a red square on the left side on a blue background")
                .objects().get(0).placement());
    }

    @Test
    void captionsRoundTrip() {
        SplittableRandom random = new SplittableRandom(11);
        for (int i = 0; i < 500; i++) {
            ShapePrompt prompt = ShapePrompt.random(random);
            assertEquals(prompt, CaptionGrammar.parse(prompt.caption()), prompt.caption());
        }
    }

    @Test
    void readsTheDatasetSampleAsTheGeneratorDrewIt() {
        // the Python generator and this parser must agree on every caption and paraphrase it writes
        for (ShapesSample.Item item : ShapesSample.load()) {
            assertEquals(item.drawn(), CaptionGrammar.parse(item.caption()), item.caption());
            assertEquals(item.drawn(), CaptionGrammar.parse(item.paraphrase()), item.paraphrase());
            assertEquals(item.caption(), item.drawn().caption(), "Java writes captions as Python does");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "a red circle",
        "a red circle on a background",
        "a red circle on a blue background and a green background",
        "a circle on a blue background",
        "a red on a blue background",
        "a red hexagon on a blue background",
        "a red circle on a blue bakground",
        "a small large red circle on a blue background",
        "a red green circle on a blue background",
        "a red circle on the left at the top on a blue background",
        "a red circle on the left and a blue square on a white background",
        "a red circle and a blue square and a green triangle on a white background",
        "a medium red circle on a blue background",
        "not a red circle on a blue background",
    })
    void rejectsWhatTheGrammarDoesNotSay(String caption) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> CaptionGrammar.parse(caption));
        assertTrue(error.getMessage().contains(caption), error.getMessage());
    }
}
