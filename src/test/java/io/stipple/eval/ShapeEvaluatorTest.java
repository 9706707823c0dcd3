package io.stipple.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.eval.ShapeEvaluator.Group;
import io.stipple.eval.ShapeEvaluator.Result;
import io.stipple.eval.ShapeEvaluator.Tally;
import java.awt.Shape;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The scoring, with fake models that draw the scene with {@link Drawing}, right or wrong on purpose. */
class ShapeEvaluatorTest {
    private static final List<ShapePrompt> PROMPTS = ShapeEvaluator.prompts(11, 50);
    private static final List<Attribute> OBJECT_ATTRIBUTES =
            List.of(Attribute.COLOR, Attribute.SHAPE, Attribute.SIZE, Attribute.POSITION);

    private final ShapeEvaluator evaluator = new ShapeEvaluator(500);

    @Test
    void rightDrawingsScoreFully() {
        Result result = evaluator.evaluate(PROMPTS, drawing(UnaryOperator.identity()));
        for (Group group : Group.values()) {
            Tally tally = result.tally(group);
            for (Attribute attribute : Attribute.values()) {
                tally.accuracy(attribute).ifPresent(accuracy -> assertEquals(1.0, accuracy, attribute + ": " + tally));
            }
            assertEquals(1.0, tally.allRightShare(), group + ": " + tally);
        }
    }

    @Test
    void countsChecksPerImageAndPerObject() {
        Result result = evaluator.evaluate(PROMPTS, drawing(UnaryOperator.identity()));
        Tally one = result.tally(Group.ONE_OBJECT);
        Tally two = result.tally(Group.TWO_OBJECTS);
        assertEquals(30, one.images());
        assertEquals(20, two.images());
        assertEquals(30, one.checked(Attribute.BACKGROUND));
        assertEquals(30, one.checked(Attribute.SHAPE));
        long positioned = PROMPTS.stream()
                .filter(p -> p.objects().size() == 1 && p.objects().get(0).placement() != Placement.ANYWHERE)
                .count();
        assertTrue(positioned > 0 && positioned < 30, "the sample has prompts with and without position words");
        assertEquals(positioned, one.checked(Attribute.POSITION));
        assertEquals(20, two.checked(Attribute.BACKGROUND));
        assertEquals(40, two.checked(Attribute.COLOR), "two objects, two color checks");
        assertEquals(40, two.checked(Attribute.SIZE));
        assertEquals(0, two.checked(Attribute.POSITION));
        assertEquals(OptionalDouble.empty(), two.accuracy(Attribute.POSITION));
        assertEquals(50, result.overall().images());
    }

    @Test
    void wrongColorsScoreZeroOnColorOnly() {
        Result result = evaluator.evaluate(PROMPTS, drawing(scene -> new ShapePrompt(scene.background(),
                scene.objects().stream().map(o -> new ShapeSpec(otherColor(o.color(), scene.background()), o.shape(),
                        o.size(), o.placement())).toList())));
        assertOnlyWrong(result, Attribute.COLOR);
    }

    @Test
    void wrongShapesScoreZeroOnShapeOnly() {
        Result result = evaluator.evaluate(PROMPTS, drawing(scene -> new ShapePrompt(scene.background(),
                scene.objects().stream().map(o -> new ShapeSpec(o.color(),
                        ShapeKind.values()[(o.shape().ordinal() + 1) % ShapeKind.values().length], o.size(),
                        o.placement())).toList())));
        assertOnlyWrong(result, Attribute.SHAPE);
    }

    @Test
    void emptyImagesScoreOnlyTheBackground() {
        Result result = evaluator.evaluate(PROMPTS,
                (caption, seed) -> new Drawing(CaptionGrammar.parse(caption).background().packed()).image());
        for (Group group : Group.values()) {
            Tally tally = result.tally(group);
            assertEquals(1.0, tally.accuracy(Attribute.BACKGROUND).orElseThrow(), tally.toString());
            for (Attribute attribute : OBJECT_ATTRIBUTES) {
                assertEquals(0, tally.right(attribute), attribute + ": " + tally);
            }
            assertEquals(0, tally.allRight());
        }
    }

    @Test
    void halfWrongIsHalfRightAndPrefixesRescore() {
        // prompts at even places (the seed tells the place) drawn right, at odd places in the wrong color
        ShapeEvaluator.Generator right = drawing(UnaryOperator.identity());
        ShapeEvaluator.Generator wrong = drawing(scene -> new ShapePrompt(scene.background(),
                scene.objects().stream().map(o -> new ShapeSpec(otherColor(o.color(), scene.background()), o.shape(),
                        o.size(), o.placement())).toList()));
        List<Long> seeds = new ArrayList<>();
        Result result = evaluator.evaluate(PROMPTS, (caption, seed) -> {
            seeds.add(seed);
            return ((seed - 500) % 2 == 0 ? right : wrong).generate(caption, seed);
        });
        assertEquals(500L, seeds.get(0));
        assertEquals(549L, seeds.get(49));
        assertEquals(seeds, result.samples().stream().map(ShapeEvaluator.Sample::seed).toList());

        // one-object prompts are at places 0, 2, 4 of every five: all even in one five, all odd in the next
        Tally one = result.tally(Group.ONE_OBJECT);
        assertEquals(0.5, one.accuracy(Attribute.COLOR).orElseThrow(), 1e-9);
        assertEquals(1.0, one.accuracy(Attribute.SHAPE).orElseThrow());
        assertEquals(0.5, result.overall().allRightShare(), 1e-9);

        Result firstTen = result.first(10);
        assertEquals(10, firstTen.overall().images());
        assertEquals(5, firstTen.overall().allRight());
        assertEquals(4, firstTen.tally(Group.TWO_OBJECTS).images());
    }

    @Test
    void promptsAreThreeFifthsOneObjectAndPrefixStable() {
        List<ShapePrompt> prompts = ShapeEvaluator.prompts(2026, 200);
        assertEquals(120, prompts.stream().filter(p -> Group.of(p) == Group.ONE_OBJECT).count());
        assertEquals(80, prompts.stream().filter(p -> Group.of(p) == Group.TWO_OBJECTS).count());
        assertEquals(prompts.subList(0, 120), ShapeEvaluator.prompts(2026, 120));
        assertEquals(prompts, ShapeEvaluator.prompts(2026, 200));
        assertNotEquals(prompts, ShapeEvaluator.prompts(2027, 200));
        assertTrue(prompts.stream().distinct().count() > 150, "fresh prompts, not a few repeated");
    }

    private static void assertOnlyWrong(Result result, Attribute wrong) {
        for (Group group : Group.values()) {
            Tally tally = result.tally(group);
            for (Attribute attribute : Attribute.values()) {
                OptionalDouble accuracy = tally.accuracy(attribute);
                if (accuracy.isPresent()) {
                    assertEquals(attribute == wrong ? 0.0 : 1.0, accuracy.getAsDouble(), attribute + ": " + tally);
                }
            }
            assertEquals(0, tally.allRight(), tally.toString());
        }
    }

    /** Another object color: neither the right one nor the background's (which would hide the object). */
    private static PaletteColor otherColor(PaletteColor color, PaletteColor background) {
        PaletteColor other = color;
        do {
            other = PaletteColor.values()[(other.ordinal() + 1) % PaletteColor.values().length];
        } while (other == background);
        return other;
    }

    /** A fake model that draws the caption's scene after {@code change}, like the dataset lays it out. */
    private static ShapeEvaluator.Generator drawing(UnaryOperator<ShapePrompt> change) {
        return (caption, seed) -> draw(change.apply(CaptionGrammar.parse(caption)));
    }

    private static BufferedImage draw(ShapePrompt scene) {
        Drawing drawing = new Drawing(scene.background().packed());
        List<ShapeSpec> objects = scene.objects();
        for (int i = 0; i < objects.size(); i++) {
            ShapeSpec object = objects.get(i);
            double side = switch (object.size()) {
                case SMALL -> 16;
                case MEDIUM -> 26;
                case LARGE -> 40;
            };
            double x;
            double y;
            if (objects.size() == 2) {
                x = i == 0 ? 16 : 48;
                y = 32;
            } else {
                double[] anchor = switch (object.placement()) {
                    case LEFT -> new double[] {0.28, 0.5};
                    case RIGHT -> new double[] {0.72, 0.5};
                    case TOP -> new double[] {0.5, 0.28};
                    case BOTTOM -> new double[] {0.5, 0.72};
                    case CENTER, ANYWHERE -> new double[] {0.5, 0.5};
                };
                x = inside(anchor[0] * Drawing.SIZE, side);
                y = inside(anchor[1] * Drawing.SIZE, side);
            }
            Shape shape = switch (object.shape()) {
                case CIRCLE -> Drawing.circle(x, y, side);
                case SQUARE -> Drawing.square(x, y, side);
                case TRIANGLE -> Drawing.triangle(x, y, side, false);
            };
            drawing.fill(object.color().packed(), shape);
        }
        return drawing.image();
    }

    /** The center moved just enough for the whole shape to stay on the canvas. */
    private static double inside(double center, double side) {
        return Math.min(Math.max(center, side / 2 + 1), Drawing.SIZE - side / 2 - 1);
    }
}
