package io.stipple.eval;

import ai.djl.pytorch.jni.JniUtils;
import io.stipple.eval.ShapeEvaluator.Group;
import io.stipple.eval.ShapeEvaluator.Result;
import io.stipple.eval.ShapeEvaluator.Sample;
import io.stipple.eval.ShapeEvaluator.Tally;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.ServedModels;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.GenerationPipeline;
import io.stipple.sampling.SamplerCatalog;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * How well the served model draws captioned shapes: fresh prompts of the grammar ({@link ShapePrompt},
 * from a fixed seed, three in five with one object and two in five with two), one image each from a
 * fixed seed through the serial {@link GenerationPipeline} (the serving math, one request per prompt),
 * judged by {@link ShapeJudge}. Runs at the model's defaults from {@code pipeline.json}, then sweeps the
 * guidance scale at the default steps and the steps at the default guidance scale.
 *
 * <p>Run with {@code mvn test -Pevaluation}; the model is the one the server would load (the embedded
 * default model, or {@code -Dstipple.eval.model-dir=/path/to/pipeline}). {@code -Dstipple.eval.prompts}
 * (200) and {@code -Dstipple.eval.sweep-prompts} (120) set how many prompts the default run and each sweep
 * point use. Writes {@code target/evaluation/shapes.md} and {@code target/evaluation/samples.png}.
 * Never pass/fail: it reports.
 */
@Tag("evaluation")
// the server's own context (MOCK: its web beans without a port), so that the model loads as it would serve
@SpringBootTest
class ShapesEvaluation {
    private static final String MODEL_DIR = "stipple.eval.model-dir";
    private static final long PROMPT_SEED = 2026;
    private static final long FIRST_IMAGE_SEED = 1000;
    private static final double[] GUIDANCE_SWEEP = {1, 3, 5, 7.5};
    private static final int[] STEPS_SWEEP = {5, 10, 20, 30};
    /** A consistency model (default sampler lcm) is made for a few steps; more than 8 only costs. */
    private static final int[] FEW_STEPS_SWEEP = {1, 2, 4, 8};
    private static final int GRID_COLUMNS = 8;
    private static final int GRID_ROWS = 6;
    private static final int PROGRESS_EVERY = 50;
    private static final int CALIBRATION_RUNS = 3;
    private static final Path OUT = Path.of("target/evaluation");

    @DynamicPropertySource
    static void modelDir(DynamicPropertyRegistry registry) {
        String directory = System.getProperty(MODEL_DIR);
        if (directory != null && !directory.isBlank()) {
            registry.add("stipple.model-dir", () -> directory);
            registry.add("stipple.embedded-models", () -> "false");
        }
    }

    @Autowired
    ServedModels served;

    private GenerationPipeline pipeline;
    private long startNanos;
    private double estimatedSeconds;
    private final ShapeEvaluator evaluator = new ShapeEvaluator(FIRST_IMAGE_SEED);

    /** Sampler settings of one run; everything else is the model's default. */
    private record Settings(int steps, double guidance, String sampler) {
        String guidanceLabel() {
            return guidance == Math.rint(guidance) ? String.valueOf((long) guidance) : String.valueOf(guidance);
        }

        @Override
        public String toString() {
            return "steps " + steps + ", guidance " + guidanceLabel() + ", " + sampler;
        }
    }

    @Test
    void evaluate() throws IOException {
        startNanos = System.nanoTime();
        // as on the engine's worker thread (the setting is thread-local)
        JniUtils.setGraphExecutorOptimize(false);
        pipeline = new GenerationPipeline(models());
        PipelineSpec spec = models().spec();
        int promptCount = Integer.getInteger("stipple.eval.prompts", 200);
        int sweepCount = Integer.getInteger("stipple.eval.sweep-prompts", 120);
        List<ShapePrompt> prompts = ShapeEvaluator.prompts(PROMPT_SEED, promptCount);
        List<ShapePrompt> sweepPrompts = ShapeEvaluator.prompts(PROMPT_SEED, sweepCount);
        Settings defaults = new Settings(spec.stepsOrDefault(), spec.guidanceScaleOrDefault(),
                spec.samplerOrDefault());
        // the default run's first images are the sweep's at the default settings: same prompts, same seeds
        boolean reuseDefaults = sweepCount <= promptCount;

        Map<Settings, Double> millis = calibrate(defaults);
        double estimate = millis.get(defaults) * promptCount;
        for (Settings settings : sweepPoints(defaults)) {
            if (!(reuseDefaults && settings.equals(defaults))) {
                estimate += millis.get(settings) * sweepCount;
            }
        }
        estimatedSeconds = (System.nanoTime() - startNanos) / 1e9 + estimate / 1000;
        System.out.printf(Locale.ROOT, "Shapes evaluation of \"%s\" on %s: %d prompts at the defaults (%s), "
                        + "%d per sweep point; one default request takes %.0f ms, estimated runtime %s%n",
                spec.name(), models().device(), promptCount, defaults, sweepCount, millis.get(defaults),
                duration(estimatedSeconds));

        Result atDefaults = run(prompts, defaults);
        Map<Settings, Result> results = new HashMap<>();
        if (reuseDefaults) {
            results.put(defaults, atDefaults.first(sweepCount));
        }
        List<Map<Settings, Result>> sweepResults = new ArrayList<>();
        for (List<Settings> sweep : sweeps(defaults)) {
            Map<Settings, Result> points = new LinkedHashMap<>();
            for (Settings settings : sweep) {
                points.put(settings, results.computeIfAbsent(settings, point -> run(sweepPrompts, point)));
            }
            sweepResults.add(points);
        }
        Optional<VaeReconstruction.Psnr> vae = VaeReconstruction.measure(models());
        double seconds = (System.nanoTime() - startNanos) / 1e9;

        Files.createDirectories(OUT);
        List<Sample> gridSamples = atDefaults.samples().subList(0,
                Math.min(GRID_COLUMNS * GRID_ROWS, atDefaults.samples().size()));
        ImageIO.write(SampleGrid.render(gridSamples, GRID_COLUMNS), "png", OUT.resolve("samples.png").toFile());
        String report = report(defaults, atDefaults, sweepResults, vae,
                gridSamples, sweepCount, reuseDefaults, seconds);
        Files.writeString(OUT.resolve("shapes.md"), report);
        System.out.println(report);
        System.out.println("Wrote " + OUT.resolve("shapes.md") + " and " + OUT.resolve("samples.png"));
    }

    /** The guidance, steps and sampler sweeps, each varying one setting away from the defaults. */
    private static List<List<Settings>> sweeps(Settings d) {
        return List.of(
                Arrays.stream(GUIDANCE_SWEEP).mapToObj(g -> new Settings(d.steps(), g, d.sampler())).toList(),
                Arrays.stream("lcm".equals(d.sampler()) ? FEW_STEPS_SWEEP : STEPS_SWEEP)
                        .mapToObj(n -> new Settings(n, d.guidance(), d.sampler())).toList(),
                SamplerCatalog.NAMES.stream().map(name -> new Settings(d.steps(), d.guidance(), name)).toList());
    }

    private static List<Settings> sweepPoints(Settings defaults) {
        return sweeps(defaults).stream().flatMap(List::stream).distinct().toList();
    }

    /**
     * Milliseconds of one request per settings: the median of a few after a warm-up one (a new batch
     * shape is slow once).
     */
    private Map<Settings, Double> calibrate(Settings defaults) {
        List<Settings> all = new ArrayList<>(List.of(defaults));
        all.addAll(sweepPoints(defaults));
        List<ShapePrompt> probes = ShapeEvaluator.prompts(PROMPT_SEED + 1, CALIBRATION_RUNS + 1);
        Map<Settings, Double> millis = new LinkedHashMap<>();
        for (Settings settings : all) {
            if (!millis.containsKey(settings)) {
                List<Sample> timed = evaluator.evaluate(probes, generator(settings)).samples();
                millis.put(settings, median(timed.subList(1, timed.size()).stream().map(Sample::millis).toList()));
            }
        }
        return millis;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private Result run(List<ShapePrompt> prompts, Settings settings) {
        ShapeEvaluator.Generator generator = generator(settings);
        int[] done = {0};
        long start = System.nanoTime();
        Result result = evaluator.evaluate(prompts, (caption, seed) -> {
            BufferedImage image = generator.generate(caption, seed);
            if (++done[0] % PROGRESS_EVERY == 0 && done[0] < prompts.size()) {
                System.out.printf(Locale.ROOT, "  %s: %d/%d images%n", settings, done[0], prompts.size());
            }
            return image;
        });
        System.out.printf(Locale.ROOT, "%s: %d images in %.1f s (%.0f ms per image); all right: %s; "
                        + "%s of about %s done%n", settings, prompts.size(), (System.nanoTime() - start) / 1e9,
                result.millisPerImage(), Arrays.stream(Group.values())
                        .map(g -> g.label() + " " + percent(result.tally(g).allRightShare()))
                        .collect(Collectors.joining(", ")),
                duration((System.nanoTime() - startNanos) / 1e9), duration(estimatedSeconds));
        return result;
    }

    private ShapeEvaluator.Generator generator(Settings settings) {
        return ShapeEvaluator.through(pipeline, models().spec(), settings.steps(), settings.guidance(),
                settings.sampler());
    }

    private String report(Settings defaults, Result atDefaults, List<Map<Settings, Result>> sweeps,
            Optional<VaeReconstruction.Psnr> vae, List<Sample> gridSamples, int sweepCount, boolean reuseDefaults,
            double seconds) throws IOException {
        PipelineSpec spec = models().spec();
        String modelDir = System.getProperty(MODEL_DIR);
        StringBuilder md = new StringBuilder();
        md.append("# Captioned-shapes evaluation of \"").append(spec.name()).append("\"\n\n");
        md.append("Model: `").append(spec.name()).append("` (")
                .append(modelDir == null || modelDir.isBlank() ? "the embedded default model" : "`" + modelDir + "`")
                .append("), ").append(spec.defaultWidth()).append('×').append(spec.defaultHeight())
                .append(", sampler `").append(spec.samplerOrDefault()).append("`, defaults: ").append(defaults)
                .append(".  \n");
        md.append("Run ").append(LocalDate.now()).append(" on `").append(models().device()).append("`, ")
                .append(Runtime.getRuntime().availableProcessors()).append(" cores (").append(cpuModel())
                .append("), Java ").append(System.getProperty("java.version")).append(", in ")
                .append(duration(seconds)).append(" (estimated ").append(duration(estimatedSeconds)).append(").\n\n");
        md.append("Command: `mvn test -Pevaluation` (`io.stipple.eval.ShapesEvaluation`). Prompts: fresh captions ")
                .append("drawn by `ShapePrompt.random` from seed ").append(PROMPT_SEED)
                .append(", three in five with one object and two in five with two; prompt *i* is generated ")
                .append("from seed ").append(FIRST_IMAGE_SEED).append(" + *i*, one request per prompt through ")
                .append("`GenerationPipeline`, and judged by `ShapeJudge`. Background is checked once per image; ")
                .append("color, shape and size once per object (twice for two-object prompts); position only ")
                .append("where the caption has position words (never with two objects, which are placed left ")
                .append("then right). *All right*: every checked attribute of the image right.\n\n");

        md.append("## At the default settings (").append(defaults).append(")\n\n");
        md.append("| prompts | images | background | color | shape | size | position | all right |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (Group group : Group.values()) {
            Tally tally = atDefaults.tally(group);
            md.append("| ").append(group.label()).append(" | ").append(tally.images());
            for (Attribute attribute : Attribute.values()) {
                md.append(" | ").append(accuracyWithCounts(tally, attribute));
            }
            md.append(" | ").append(percent(tally.allRightShare())).append(" (").append(tally.allRight())
                    .append('/').append(tally.images()).append(") |\n");
        }
        md.append('\n');

        String reuse = reuseDefaults ? " The row at the default settings reuses the first " + sweepCount
                + " images of the run above (the same prompts and seeds)." : "";
        appendSweep(md, "Guidance scale (steps " + defaults.steps() + ", " + defaults.sampler() + ")", "guidance",
                Settings::guidanceLabel, defaults, sweeps.get(0), sweepCount, reuse);
        appendSweep(md, "Steps (guidance " + defaults.guidanceLabel() + ", " + defaults.sampler() + ")", "steps",
                s -> String.valueOf(s.steps()), defaults, sweeps.get(1), sweepCount, reuse);
        appendSweep(md, "Sampler (steps " + defaults.steps() + ", guidance " + defaults.guidanceLabel() + ")",
                "sampler", Settings::sampler, defaults, sweeps.get(2), sweepCount, reuse);

        md.append("## VAE reconstruction\n\n");
        md.append(vae.map(psnr -> String.format(Locale.ROOT, "The %d held-out images of the committed dataset sample "
                + "(`src/test/resources/shapes-sample`, seed 2025; training uses seeds 0 and 1), encoded by "
                + "`vae_encoder.pt` to the latent mean and decoded by the server's `ImageDecoder`, 8-bit against "
                + "8-bit: **PSNR %.2f dB** (of the mean squared error; %.2f dB averaged over images).%n%n",
                psnr.images(), psnr.ofMeanError(), psnr.meanOverImages()))
                .orElse("Not measured: the pipeline has no `vae_encoder.pt`.\n\n"));

        md.append("## Timing\n\n");
        md.append("Generation only (the judge's time excluded), one request at a time.\n\n");
        md.append("| run | images | seconds | ms per image |\n|---|---|---|---|\n");
        appendTiming(md, "defaults (" + defaults + ")", atDefaults);
        Set<Settings> timed = new LinkedHashSet<>();
        for (Map<Settings, Result> sweep : sweeps) {
            for (Map.Entry<Settings, Result> point : sweep.entrySet()) {
                if (!(reuseDefaults && point.getKey().equals(defaults)) && timed.add(point.getKey())) {
                    appendTiming(md, point.getKey().toString(), point.getValue());
                }
            }
        }
        md.append("\nTotal wall-clock, model loading excluded: ").append(duration(seconds)).append(" (estimated ")
                .append(duration(estimatedSeconds)).append(" from a few timed requests per setting).\n\n");

        md.append("## Samples at the default settings\n\n");
        md.append("![Samples](samples.png)\n\n");
        md.append("The first ").append(gridSamples.size()).append(" prompts, ").append(GRID_COLUMNS)
                .append(" per row, each image ×").append(SampleGrid.SCALE)
                .append("; the bar under an image is green where the judge found every attribute right, red where ")
                .append("it did not.\n\n");
        md.append("| row.column | prompt | seed | judge |\n|---|---|---|---|\n");
        for (int i = 0; i < gridSamples.size(); i++) {
            Sample sample = gridSamples.get(i);
            md.append("| ").append(i / GRID_COLUMNS + 1).append('.').append(i % GRID_COLUMNS + 1).append(" | ")
                    .append(sample.prompt().caption()).append(" | ").append(sample.seed()).append(" | ")
                    .append(judgement(sample.verdict())).append(" |\n");
        }
        return md.toString();
    }

    private static void appendSweep(StringBuilder md, String title, String column,
            Function<Settings, String> label, Settings defaults, Map<Settings, Result> sweep, int sweepCount,
            String reuse) {
        md.append("## ").append(title).append("\n\n");
        md.append("The same ").append(sweepCount).append(" prompts and seeds at every point.").append(reuse)
                .append("\n\n");
        for (Group group : Group.values()) {
            int images = sweep.values().iterator().next().tally(group).images();
            md.append("**").append(group.label().substring(0, 1).toUpperCase(Locale.ROOT))
                    .append(group.label().substring(1)).append("** (").append(images).append(" prompts)\n\n");
            md.append("| ").append(column).append(" | background | color | shape | size | position | all right | ")
                    .append("ms per image |\n|---|---|---|---|---|---|---|---|\n");
            for (Map.Entry<Settings, Result> point : sweep.entrySet()) {
                Tally tally = point.getValue().tally(group);
                md.append("| ").append(label.apply(point.getKey()))
                        .append(point.getKey().equals(defaults) ? " (default)" : "");
                for (Attribute attribute : Attribute.values()) {
                    md.append(" | ").append(accuracy(tally.accuracy(attribute)));
                }
                md.append(" | ").append(percent(tally.allRightShare())).append(" | ")
                        .append(String.format(Locale.ROOT, "%.0f", point.getValue().millisPerImage())).append(" |\n");
            }
            md.append('\n');
        }
    }

    private static void appendTiming(StringBuilder md, String run, Result result) {
        md.append("| ").append(run).append(" | ").append(result.samples().size()).append(" | ")
                .append(String.format(Locale.ROOT, "%.1f", result.totalMillis() / 1000)).append(" | ")
                .append(String.format(Locale.ROOT, "%.0f", result.millisPerImage())).append(" |\n");
    }

    private static String judgement(Verdict verdict) {
        if (verdict.allRight()) {
            return "all right";
        }
        return verdict.wrong().stream().map(check -> (check.object() == 0 ? "" : "object " + check.object() + " ")
                + check.attribute().label() + " " + check.found() + " (not " + check.expected() + ")")
                .collect(Collectors.joining("; "));
    }

    private static String accuracyWithCounts(Tally tally, Attribute attribute) {
        OptionalDouble accuracy = tally.accuracy(attribute);
        return accuracy.isEmpty() ? "n/a" : percent(accuracy.getAsDouble()) + " (" + tally.right(attribute) + "/"
                + tally.checked(attribute) + ")";
    }

    private static String accuracy(OptionalDouble accuracy) {
        return accuracy.isEmpty() ? "n/a" : percent(accuracy.getAsDouble());
    }

    private static String percent(double share) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }

    private static String duration(double seconds) {
        long rounded = Math.round(seconds);
        return rounded < 60 ? rounded + " s" : rounded / 60 + " min " + rounded % 60 + " s";
    }

    private static String cpuModel() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return "unknown CPU";
        }
        return Files.readAllLines(cpuinfo).stream()
                .filter(line -> line.startsWith("model name"))
                .map(line -> line.substring(line.indexOf(':') + 1).trim())
                .findFirst().orElse("unknown CPU");
    }

    /** The model the server serves by default: the one this test is about. */
    private LoadedPipeline models() {
        return served.defaultModel().pipeline();
    }
}
