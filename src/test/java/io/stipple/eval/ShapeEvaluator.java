package io.stipple.eval;

import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.Guidance;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * Scores a text-to-image model on the captioned-shapes grammar: one image per prompt from a fixed seed,
 * each judged by {@link ShapeJudge}, tallied per attribute and separately for one-object and
 * two-object prompts. The model is any {@link Generator}, so the same scoring serves the evaluation
 * command ({@code ShapesEvaluation}) and the model's tests.
 */
final class ShapeEvaluator {
    /** Two prompts in five have two objects, at these places of every five; the others have one. */
    private static final int CYCLE = 5;
    private static final List<Integer> TWO_OBJECT_PLACES = List.of(1, 3);

    /** The model under evaluation: one image for a caption, drawn from a seed. */
    @FunctionalInterface
    interface Generator {
        BufferedImage generate(String caption, long seed) throws Exception;
    }

    /**
     * One request per image through the serving math ({@link GenerationPipeline}) at the model's default
     * size, with the given sampler settings; the PNG the server would send, read back.
     */
    static Generator through(GenerationPipeline pipeline, PipelineSpec spec, int steps, double guidance,
            String sampler) {
        return (caption, seed) -> {
            GenerationRequest request = new GenerationRequest(spec.name(), caption, "", spec.defaultWidth(), spec.defaultHeight(),
                    steps, guidance, spec.guidanceEmbedded() ? Guidance.EMBEDDED : Guidance.classifierFree(guidance),
                    sampler, 0.0, List.of(seed), null);
            byte[] png = pipeline.generate(request, 0).images().get(0).png();
            return ImageIO.read(new ByteArrayInputStream(png));
        };
    }

    enum Group {
        ONE_OBJECT("one object"),
        TWO_OBJECTS("two objects");

        private final String label;

        Group(String label) {
            this.label = label;
        }

        String label() {
            return label;
        }

        static Group of(ShapePrompt prompt) {
            return prompt.objects().size() == 1 ? ONE_OBJECT : TWO_OBJECTS;
        }
    }

    /** One generated image, judged; {@code millis} is the generation time alone. */
    record Sample(ShapePrompt prompt, long seed, BufferedImage image, Verdict verdict, double millis) {
        Group group() {
            return Group.of(prompt);
        }
    }

    /** The judged samples of one run, in prompt order. */
    record Result(List<Sample> samples) {
        Result {
            samples = List.copyOf(samples);
        }

        Tally tally(Group group) {
            Tally tally = new Tally();
            samples.stream().filter(s -> s.group() == group).forEach(s -> tally.add(s.verdict()));
            return tally;
        }

        Tally overall() {
            Tally tally = new Tally();
            samples.forEach(s -> tally.add(s.verdict()));
            return tally;
        }

        /** The first {@code count} samples, as if only their prompts had been run. */
        Result first(int count) {
            return new Result(samples.subList(0, count));
        }

        double totalMillis() {
            return samples.stream().mapToDouble(Sample::millis).sum();
        }

        double millisPerImage() {
            return samples.isEmpty() ? 0 : totalMillis() / samples.size();
        }
    }

    /** Right and checked counts per attribute over many verdicts, and how many images were all right. */
    static final class Tally {
        private final Map<Attribute, int[]> counts = new EnumMap<>(Attribute.class);
        private int images;
        private int allRight;

        void add(Verdict verdict) {
            images++;
            allRight += verdict.allRight() ? 1 : 0;
            for (Check check : verdict.checks()) {
                int[] rightAndChecked = counts.computeIfAbsent(check.attribute(), a -> new int[2]);
                rightAndChecked[0] += check.right() ? 1 : 0;
                rightAndChecked[1]++;
            }
        }

        int images() {
            return images;
        }

        int allRight() {
            return allRight;
        }

        /** Share of images with every checked attribute right; 0 for no images. */
        double allRightShare() {
            return images == 0 ? 0 : (double) allRight / images;
        }

        int right(Attribute attribute) {
            return counts.getOrDefault(attribute, new int[2])[0];
        }

        /** Checks of the attribute: one per image for the background, one per object for the others,
         *  and position only where a caption has position words. */
        int checked(Attribute attribute) {
            return counts.getOrDefault(attribute, new int[2])[1];
        }

        /** Right over checked; empty where the attribute was never checked. */
        OptionalDouble accuracy(Attribute attribute) {
            int checked = checked(attribute);
            return checked == 0 ? OptionalDouble.empty() : OptionalDouble.of((double) right(attribute) / checked);
        }

        @Override
        public String toString() {
            StringBuilder text = new StringBuilder(allRight + "/" + images + " all right");
            counts.forEach((attribute, rightAndChecked) -> text.append(", ").append(attribute.label()).append(' ')
                    .append(rightAndChecked[0]).append('/').append(rightAndChecked[1]));
            return text.toString();
        }
    }

    private final ShapeJudge judge = new ShapeJudge();
    private final long firstSeed;

    /** @param firstSeed the seed of the first prompt's image; prompt {@code i} uses {@code firstSeed + i} */
    ShapeEvaluator(long firstSeed) {
        this.firstSeed = firstSeed;
    }

    long seedOf(int index) {
        return firstSeed + index;
    }

    Result evaluate(List<ShapePrompt> prompts, Generator generator) {
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            ShapePrompt prompt = prompts.get(i);
            String caption = prompt.caption();
            long seed = seedOf(i);
            long start = System.nanoTime();
            BufferedImage image;
            try {
                image = generator.generate(caption, seed);
            } catch (Exception e) {
                throw new IllegalStateException("generating '" + caption + "' with seed " + seed + " failed", e);
            }
            double millis = (System.nanoTime() - start) / 1e6;
            samples.add(new Sample(prompt, seed, image, judge.judge(image, caption), millis));
        }
        return new Result(samples);
    }

    /**
     * {@code count} fresh prompts drawn by {@link ShapePrompt#random} from {@code seed}, three in five
     * with one object and two in five with two, interleaved so that every prefix of the list keeps that
     * mix: the first n prompts for a seed are the same whatever the count. Within each group the prompts
     * follow the dataset's distribution.
     */
    static List<ShapePrompt> prompts(long seed, int count) {
        SplittableRandom random = new SplittableRandom(seed);
        List<ShapePrompt> one = new ArrayList<>();
        List<ShapePrompt> two = new ArrayList<>();
        List<ShapePrompt> prompts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Group wanted = TWO_OBJECT_PLACES.contains(i % CYCLE) ? Group.TWO_OBJECTS : Group.ONE_OBJECT;
            List<ShapePrompt> pool = wanted == Group.ONE_OBJECT ? one : two;
            while (pool.isEmpty()) {
                ShapePrompt drawn = ShapePrompt.random(random);
                (Group.of(drawn) == Group.ONE_OBJECT ? one : two).add(drawn);
            }
            prompts.add(pool.remove(0));
        }
        return prompts;
    }
}
