package io.stipple.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ShapeJudgeTest {
    private static final int RED = 0xd71e1e;
    private static final int BLUE = 0x1e46d2;
    private static final int GREEN = 0x1ea03c;
    private static final int GRAY = 0x808080;
    private static final int YELLOW = 0xfae632;

    private final ShapeJudge judge = new ShapeJudge();

    @Test
    void judgesEveryAttributeOfTheDatasetSampleRight() {
        Accuracy accuracy = new Accuracy();
        for (ShapesSample.Item item : ShapesSample.load()) {
            accuracy.add(item.file(), judge.judge(item.image(), item.caption()));
        }
        System.out.println("dataset sample: " + accuracy);
        accuracy.assertAtLeast(0.99);
    }

    @Test
    void toleratesBlurAndNoise() {
        // A decoder's output is softer and noisier than the dataset: blur σ = 1 px and noise σ = 10.
        Accuracy accuracy = new Accuracy();
        SplittableRandom random = new SplittableRandom(7);
        for (ShapesSample.Item item : ShapesSample.load()) {
            accuracy.add(item.file(), judge.judge(Degrade.blurAndNoise(item.image(), 1.0, 10, random), item.caption()));
        }
        System.out.println("blurred and noisy sample: " + accuracy);
        accuracy.assertAtLeast(0.97);
    }

    @Test
    void rightImageIsAllRight() {
        Verdict verdict = judge.judge(new Drawing(BLUE).fill(RED, Drawing.circle(18, 32, 24)).image(),
                "a red circle on the left on a blue background");
        assertTrue(verdict.allRight(), verdict.toString());
        assertEquals(5, verdict.checks().size(), "background, color, shape, size, position");
    }

    @Test
    void squareIsNotACircle() {
        Verdict verdict = judge.judge(new Drawing(BLUE).fill(RED, Drawing.square(32, 32, 24)).image(),
                "a red circle on a blue background");
        assertEquals(List.of(verdict.check(1, Attribute.SHAPE)), verdict.wrong(), verdict.toString());
        assertEquals("square", verdict.check(1, Attribute.SHAPE).found());
    }

    @Test
    void wrongBackgroundIsDetected() {
        Verdict verdict = judge.judge(new Drawing(GREEN).fill(RED, Drawing.circle(32, 32, 24)).image(),
                "a red circle on a blue background");
        assertEquals(List.of(verdict.check(0, Attribute.BACKGROUND)), verdict.wrong(), verdict.toString());
        assertEquals("green", verdict.check(0, Attribute.BACKGROUND).found());
    }

    @Test
    void uniformImageHasNoObject() {
        Verdict verdict = judge.judge(new Drawing(BLUE).image(), "a small red triangle at the top on a blue background");
        assertTrue(verdict.check(0, Attribute.BACKGROUND).right());
        for (Attribute attribute : List.of(Attribute.COLOR, Attribute.SHAPE, Attribute.SIZE, Attribute.POSITION)) {
            assertEquals("none", verdict.check(1, attribute).found(), verdict.toString());
        }
    }

    @Test
    void noiseAloneIsNoObject() {
        BufferedImage noise = Degrade.blurAndNoise(new Drawing(GRAY).image(), 0, 12, new SplittableRandom(3));
        Verdict verdict = judge.judge(noise, "a blue circle on a gray background");
        assertEquals("none", verdict.check(1, Attribute.SHAPE).found(), verdict.toString());
    }

    @Test
    void grayBlobIsNotARedCircle() {
        // a lopsided blob: two overlapping discs
        BufferedImage blob = new Drawing(BLUE).fill(GRAY, new Ellipse2D.Double(18, 18, 24, 24))
                .fill(GRAY, new Ellipse2D.Double(30, 30, 16, 14)).image();
        Verdict verdict = judge.judge(blob, "a red circle on a blue background");
        assertEquals("gray", verdict.check(1, Attribute.COLOR).found());
        assertFalse(verdict.allRight());
    }

    @Test
    void shapesThatAreNoneOfTheThreeAreUnclear() {
        String triangle = "a red triangle on a blue background";
        assertEquals("unclear", shapeFound(Drawing.triangle(32, 32, 30, true), triangle), "upside down");
        String square = "a red square on a blue background";
        AffineTransform turn = AffineTransform.getRotateInstance(Math.PI / 4, 32, 32);
        assertEquals("unclear", shapeFound(turn.createTransformedShape(Drawing.square(32, 32, 24)), square),
                "a diamond");
        String circle = "a red circle on a blue background";
        assertEquals("unclear", shapeFound(new Ellipse2D.Double(12, 24, 40, 16), circle), "an ellipse");
        assertEquals("unclear", shapeFound(AffineTransform.getRotateInstance(-Math.PI / 2, 32, 32)
                .createTransformedShape(Drawing.triangle(32, 32, 30, false)), triangle), "pointing left");
    }

    private String shapeFound(java.awt.Shape shape, String caption) {
        Verdict verdict = judge.judge(new Drawing(BLUE).fill(RED, shape).image(), caption);
        return verdict.check(1, Attribute.SHAPE).found();
    }

    @Test
    void sizeAndPositionAreChecked() {
        BufferedImage largeOnTheRight = new Drawing(YELLOW).fill(BLUE, Drawing.triangle(44, 32, 40, false)).image();
        Verdict verdict = judge.judge(largeOnTheRight, "a small blue triangle on the left on a yellow background");
        assertEquals(List.of(verdict.check(1, Attribute.SIZE), verdict.check(1, Attribute.POSITION)),
                verdict.wrong(), verdict.toString());
        assertEquals("large", verdict.check(1, Attribute.SIZE).found());
        assertEquals("right", verdict.check(1, Attribute.POSITION).found());
        assertTrue(judge.judge(largeOnTheRight, "a large blue triangle on the right on a yellow background")
                .allRight());
    }

    @Test
    void noSizeWordMeansMedium() {
        BufferedImage small = new Drawing(YELLOW).fill(BLUE, Drawing.square(32, 32, 15)).image();
        Verdict verdict = judge.judge(small, "a blue square on a yellow background");
        assertEquals(List.of(verdict.check(1, Attribute.SIZE)), verdict.wrong(), verdict.toString());
    }

    @Test
    void twoObjectsAreJudgedLeftThenRight() {
        BufferedImage image = new Drawing(GREEN).fill(RED, Drawing.circle(16, 28, 24))
                .fill(BLUE, Drawing.square(48, 36, 24)).image();
        assertTrue(judge.judge(image, "a red circle and a blue square on a green background").allRight());

        Verdict swapped = judge.judge(image, "a blue square and a red circle on a green background");
        assertEquals(List.of(Attribute.COLOR, Attribute.SHAPE, Attribute.COLOR, Attribute.SHAPE),
                swapped.wrong().stream().map(Check::attribute).toList(), swapped.toString());
        assertEquals(List.of(1, 1, 2, 2), swapped.wrong().stream().map(Check::object).toList());
    }

    @Test
    void missingSecondObjectIsNone() {
        BufferedImage image = new Drawing(GREEN).fill(RED, Drawing.circle(16, 28, 24)).image();
        Verdict verdict = judge.judge(image, "a red circle and a blue square on a green background");
        assertEquals("none", verdict.check(2, Attribute.COLOR).found(), verdict.toString());
        assertTrue(verdict.check(1, Attribute.SHAPE).right());
    }

    /** Per-attribute tallies over many verdicts. */
    private static final class Accuracy {
        private final Map<Attribute, int[]> counts = new EnumMap<>(Attribute.class);
        private final List<String> misses = new ArrayList<>();
        private int images;
        private int allRight;

        void add(String file, Verdict verdict) {
            images++;
            allRight += verdict.allRight() ? 1 : 0;
            for (Check check : verdict.checks()) {
                int[] rightAndTotal = counts.computeIfAbsent(check.attribute(), a -> new int[2]);
                rightAndTotal[0] += check.right() ? 1 : 0;
                rightAndTotal[1]++;
            }
            if (!verdict.allRight()) {
                misses.add(file + " " + verdict.wrong() + " for '" + verdict.caption() + "'");
            }
        }

        void assertAtLeast(double fraction) {
            assertTrue(allRight >= fraction * images, toString());
            counts.forEach((attribute, rightAndTotal) ->
                    assertTrue(rightAndTotal[0] >= fraction * rightAndTotal[1], attribute + ": " + this));
        }

        @Override
        public String toString() {
            StringBuilder text = new StringBuilder(allRight + "/" + images + " images all right");
            counts.forEach((attribute, rightAndTotal) -> text.append(", ").append(attribute.label()).append(' ')
                    .append(rightAndTotal[0]).append('/').append(rightAndTotal[1]));
            misses.forEach(miss -> text.append("\n  miss: ").append(miss));
            return text.toString();
        }
    }
}
