package io.stipple.eval;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks an image against a caption of the captioned-shapes grammar ({@link CaptionGrammar}).
 *
 * <p>Every caption names the background and, per object, a color, a shape and a size (no size word
 * means medium, as in the dataset); the position is checked only where the caption has position
 * words. With two objects, the first is looked for in the left half of the image and the second in
 * the right half, as the dataset draws them.
 */
final class ShapeJudge {
    private static final String NONE = "none";
    private static final String UNCLEAR = "unclear";

    Verdict judge(BufferedImage image, String caption) {
        ShapePrompt prompt = CaptionGrammar.parse(caption);
        ImageAnalysis analysis = new ImageAnalysis(image);
        List<Check> checks = new ArrayList<>();
        checks.add(new Check(0, Attribute.BACKGROUND, prompt.background().word(),
                PaletteColor.nearest(analysis.background()).word()));
        List<ShapeSpec> objects = prompt.objects();
        int width = analysis.width();
        for (int i = 0; i < objects.size(); i++) {
            int fromX = objects.size() == 1 ? 0 : i * width / 2;
            int toX = objects.size() == 1 ? width : (i + 1) * width / 2;
            checks.addAll(checkObject(i + 1, objects.get(i), analysis.largestObject(fromX, toX)));
        }
        return new Verdict(caption, checks);
    }

    private static List<Check> checkObject(int index, ShapeSpec expected, Optional<FoundObject> found) {
        List<Check> checks = new ArrayList<>();
        checks.add(new Check(index, Attribute.COLOR, expected.color().word(),
                found.map(o -> o.color().word()).orElse(NONE)));
        checks.add(new Check(index, Attribute.SHAPE, expected.shape().word(),
                found.map(o -> o.shape().map(ShapeKind::word).orElse(UNCLEAR)).orElse(NONE)));
        checks.add(new Check(index, Attribute.SIZE, expected.size().label(),
                found.map(o -> o.size().label()).orElse(NONE)));
        if (expected.placement() != Placement.ANYWHERE) {
            checks.add(new Check(index, Attribute.POSITION, expected.placement().label(),
                    found.map(o -> o.placement().label()).orElse(NONE)));
        }
        return checks;
    }
}
