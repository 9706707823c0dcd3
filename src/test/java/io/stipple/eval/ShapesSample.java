package io.stipple.eval;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.imageio.ImageIO;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The committed dataset sample, src/test/resources/shapes-sample: 120 images written by
 * {@code src/training/shapes.py --out src/test/resources/shapes-sample --count 120 --seed 2025}
 * (a seed whose sample holds every caption form, background and object color).
 */
final class ShapesSample {
    /** One image with its captions and what the generator drew, in the grammar's terms. */
    record Item(String file, BufferedImage image, String caption, String paraphrase, ShapePrompt drawn) {
    }

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ShapesSample() {
    }

    static List<Item> load() {
        try {
            Path directory = Path.of(Objects.requireNonNull(
                    ShapesSample.class.getResource("/shapes-sample/captions.jsonl")).toURI()).getParent();
            return Files.readAllLines(directory.resolve("captions.jsonl")).stream()
                    .map(line -> item(directory, JSON.readTree(line))).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Item item(Path directory, JsonNode line) {
        String file = line.get("file").asString();
        try {
            BufferedImage image = ImageIO.read(directory.resolve(file).toFile());
            return new Item(file, image, line.get("caption").asString(), line.get("paraphrase").asString(),
                    drawn(line.get("scene")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ShapePrompt drawn(JsonNode scene) {
        List<ShapeSpec> objects = scene.get("objects").valueStream().map(o -> new ShapeSpec(
                constant(PaletteColor.class, o.get("color")),
                constant(ShapeKind.class, o.get("shape")),
                constant(SizeClass.class, o.get("size")),
                o.get("position").isNull() ? Placement.ANYWHERE : constant(Placement.class, o.get("position"))))
                .toList();
        return new ShapePrompt(constant(PaletteColor.class, scene.get("background")), objects);
    }

    private static <E extends Enum<E>> E constant(Class<E> type, JsonNode name) {
        return Enum.valueOf(type, name.asString().toUpperCase(Locale.ROOT));
    }
}
