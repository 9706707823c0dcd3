package io.stipple.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.stipple.pipeline.GenerationRequest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/** With {@code stipple.batch.exact=true} a request under load gives the very bytes it gives alone. */
@SpringBootTest(properties = {
        "stipple.model-dir=src/test/resources/pipelines/tiny", "stipple.embedded-models=false",
        "stipple.batch.exact=true"})
class ExactBatchingTest {
    @Autowired
    GenerationService service;

    @Test
    void everyRequestOfAMixedLoadIsByteIdenticalToItsSoloRun() {
        List<List<byte[]>> expected;
        try (SoloReference solo = new SoloReference()) {
            expected = MixedLoad.ALL.stream().map(solo::pngs).toList();
        }

        List<Job> jobs = MixedLoad.ALL.stream().map(request -> service.submit(request, EngineTesting.CLIENT)).toList();

        for (int i = 0; i < jobs.size(); i++) {
            GenerationRequest request = MixedLoad.ALL.get(i);
            List<byte[]> actual = EngineTesting.pngs(EngineTesting.result(jobs.get(i)));
            for (int image = 0; image < actual.size(); image++) {
                assertArrayEquals(expected.get(i).get(image), actual.get(image),
                        "image " + image + " of \"" + request.prompt() + "\"");
            }
        }
    }
}
