package io.stipple.engine;

import static io.stipple.engine.EngineTesting.request;

import io.stipple.pipeline.GenerationRequest;
import io.stipple.pipeline.Guidance;
import java.util.List;

/**
 * A request under test and the mix it runs in: other prompts, every sampler, step counts from 8 to 30,
 * guidance from none to 12, two latent shapes (64×64 and 32×48) and a two-image request. Together they
 * need 16 U-Net rows, the default row cap, so they all run at once.
 */
final class MixedLoad {
    static final GenerationRequest UNDER_TEST = request("a red circle on a blue background", 20, 42);

    static final List<GenerationRequest> OTHERS = List.of(
            request("a green square", 64, 64, 12, 7.5, "dpmpp_2m", 7),
            request("two yellow triangles", 32, 48, 25, 3.0, "dpmpp_2m_karras", 8),
            request("a small purple star", 64, 64, 16, 0.0, "euler_a", 9),
            request("an orange ring", 32, 48, 8, 1.0, "ddim", 10),
            request("a blue cross", 64, 64, 30, 5.0, "euler_a", 11, 2),
            new GenerationRequest(EngineTesting.TINY, "a white dot", "a black dot", 32, 48, 20, 12.0, Guidance.CLASSIFIER_FREE, "ddim", 0.5, List.of(12L), null),
            request("a black line", 64, 64, 20, 5.0, "dpmpp_2m", 42));

    /** The request under test in the middle of the others, in submission order. */
    static final List<GenerationRequest> ALL = List.of(OTHERS.get(0), OTHERS.get(1), OTHERS.get(2), UNDER_TEST,
            OTHERS.get(3), OTHERS.get(4), OTHERS.get(5), OTHERS.get(6));

    private MixedLoad() {
    }

    /** U-Net calls the requests would take one after another: the sum of their step counts. */
    static int serialCalls(List<GenerationRequest> requests) {
        return requests.stream().mapToInt(GenerationRequest::steps).sum();
    }
}
