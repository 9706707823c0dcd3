package io.stipple.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.jni.JniUtils;
import io.stipple.eval.ShapeEvaluator.Group;
import io.stipple.eval.ShapeEvaluator.Result;
import io.stipple.eval.ShapeEvaluator.Tally;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.pipeline.GenerationPipeline;

/**
 * A shipped model's quick judged test: {@code prompts} fresh prompts of the grammar (three in five with one
 * object) at the model's default settings, through the serving math, judged by {@link ShapeJudge}, and the counts
 * the model must reach. Each test says how its counts follow from the model's evaluation.
 */
record QuickJudgement(long promptSeed, long firstImageSeed, int prompts, int minBackgroundsRight,
        int minOneObjectAllRight, int minTwoObjectsAllRight) {

    void assertDrawsWhatCaptionsAskFor(LoadedPipeline model) {
        // as on the engine's worker thread (the setting is thread-local)
        JniUtils.setGraphExecutorOptimize(false);
        PipelineSpec spec = model.spec();
        ShapeEvaluator.Generator atDefaults = ShapeEvaluator.through(new GenerationPipeline(model), spec,
                spec.stepsOrDefault(), spec.guidanceScaleOrDefault(), spec.samplerOrDefault());
        Result result = new ShapeEvaluator(firstImageSeed)
                .evaluate(ShapeEvaluator.prompts(promptSeed, prompts), atDefaults);

        Tally one = result.tally(Group.ONE_OBJECT);
        Tally two = result.tally(Group.TWO_OBJECTS);
        String report = spec.name() + ": one object: " + one + "; two objects: " + two;
        assertEquals(prompts * 3 / 5, one.images(), report);
        assertTrue(result.overall().right(Attribute.BACKGROUND) >= minBackgroundsRight, report);
        assertTrue(one.allRight() >= minOneObjectAllRight, report);
        assertTrue(two.allRight() >= minTwoObjectsAllRight, report);
    }
}
