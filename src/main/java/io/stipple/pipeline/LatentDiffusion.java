package io.stipple.pipeline;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.stipple.model.LoadedPipeline;
import io.stipple.model.PipelineSpec;
import io.stipple.sampling.Sampler;
import io.stipple.sampling.SamplerCatalog;
import io.stipple.sampling.Trajectory;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * The passes of latent diffusion over one loaded pipeline: text → hidden states, the images' start, a guided
 * step, latents → pixels → PNGs. The serial {@link GenerationPipeline} and the serving engine both run requests
 * through these, so a request served in a batch can differ from the same request served alone only in how its
 * calls were batched. Not thread-safe: the modules belong to the one thread that calls them.
 */
public final class LatentDiffusion {
    private final LoadedPipeline models;
    private final SamplerCatalog samplers;
    private final PromptEncoder prompts;
    private final GuidedStep guidedStep;
    private final ImageDecoder decoder;
    /** Null for a pipeline without {@code vae_encoder.pt}, whose requests never carry an init image. */
    private final ImageEncoder encoder;

    public LatentDiffusion(LoadedPipeline models, SamplerCatalog samplers) {
        this.models = models;
        this.samplers = samplers;
        this.prompts = new PromptEncoder(models);
        this.guidedStep = new GuidedStep(models.unet(), GuidanceEmbedding.of(models.spec()));
        this.decoder = new ImageDecoder(models.vaeDecoder(), models.spec().scalingFactor());
        this.encoder = models.vaeEncoder().map(vae -> new ImageEncoder(vae, models.spec().scalingFactor())).orElse(null);
    }

    public LoadedPipeline models() {
        return models;
    }

    /**
     * The text of every request in one call of each text encoder: per request its negative prompt's row (when it has
     * an encoded unconditional row) and its prompt's (at its clip skip), each request's rows owned by
     * {@code owners.get(i)}. An SDXL request without a negative prompt gets all-zero negative conditioning.
     */
    public List<TextConditioning> encodePrompts(List<GenerationRequest> requests, List<NDManager> owners) {
        List<String> texts = new ArrayList<>();
        List<Long> clipSkips = new ArrayList<>();
        for (GenerationRequest request : requests) {
            if (request.classifierFree() && !request.zeroNegative()) {
                texts.add(request.negativePrompt());
                clipSkips.add(0L);
            }
            texts.add(request.prompt());
            clipSkips.add((long) request.clipSkip());
        }
        List<TextConditioning> conditioning = new ArrayList<>();
        try (NDManager batch = NDManager.newBaseManager(models.device())) {
            PromptEncoder.EncodedText encoded = prompts.encode(batch, texts,
                    clipSkips.stream().mapToLong(Long::longValue).toArray());
            int row = 0;
            for (int i = 0; i < requests.size(); i++) {
                GenerationRequest request = requests.get(i);
                NDManager owner = owners.get(i);
                UnetConditions unconditional = !request.classifierFree() ? null
                        : request.zeroNegative() ? zeros(encoded, owner) : rowOf(encoded, row++, owner);
                conditioning.add(new TextConditioning(rowOf(encoded, row++, owner), unconditional));
            }
        }
        return conditioning;
    }

    /** Row {@code row} of the hidden states, and of the pooled embeddings where there are any, moved to {@code owner}. */
    private static UnetConditions rowOf(PromptEncoder.EncodedText encoded, int row, NDManager owner) {
        List<NDArray> inputs = new ArrayList<>();
        inputs.add(encoded.hidden().get("{}:{}", row, row + 1));
        if (encoded.pooled() != null) {
            inputs.add(encoded.pooled().get("{}:{}", row, row + 1));
        }
        inputs.forEach(input -> input.attach(owner));
        return new UnetConditions(inputs);
    }

    /** A row of zeros in place of each of {@link #rowOf}'s. */
    private static UnetConditions zeros(PromptEncoder.EncodedText encoded, NDManager owner) {
        Shape hidden = encoded.hidden().getShape();
        List<NDArray> inputs = new ArrayList<>();
        inputs.add(owner.zeros(new Shape(1, hidden.get(1), hidden.get(2))));
        if (encoded.pooled() != null) {
            inputs.add(owner.zeros(new Shape(1, encoded.pooled().getShape().get(1))));
        }
        return new UnetConditions(inputs);
    }

    /**
     * Each image of {@code request} at the start of its walk, with its own seed and trajectory: x_T drawn from
     * noise, or for image-to-image the init image noised to the first walked step. Owned by {@code manager}.
     */
    public List<DenoisingImage> startImages(GenerationRequest request, TextConditioning text, NDManager manager) {
        PipelineSpec spec = models.spec();
        Shape latentShape = spec.latentShape(1, request.width(), request.height());
        Sampler sampler = samplers.create(request.sampler(), request.eta());
        ImageStart start = ImageStart.of(request, spec, encoder, manager);
        TextConditioning rows = spec.textTimeConditioning() ? withTimeIds(text, request, manager) : text;
        List<DenoisingImage> images = new ArrayList<>();
        for (long seed : request.seeds()) {
            Trajectory trajectory = request.init() == null
                    ? sampler.start(request.steps())
                    : sampler.start(request.steps(), request.init().strength());
            images.add(new DenoisingImage(seed, trajectory, request.guidanceScale(), rows.conditional(),
                    rows.unconditional(), manager, latentShape, start));
        }
        return images;
    }

    /** SDXL's rows: the text's, then the six time ids; the negative row takes the prompt's, as diffusers' does. */
    private static TextConditioning withTimeIds(TextConditioning text, GenerationRequest request, NDManager manager) {
        SizeConditioning sizes = request.sizes() != null ? request.sizes()
                : SizeConditioning.of(request.width(), request.height());
        List<NDArray> timeIds = List.of(manager.create(sizes.timeIds(), new Shape(1, 6)));
        return new TextConditioning(text.conditional().with(timeIds),
                text.unconditional() == null ? null : text.unconditional().with(timeIds));
    }

    /** One guided denoising step of {@code images}, all of one latent shape, in one U-Net call. */
    public void step(List<DenoisingImage> images) {
        guidedStep.run(images);
    }

    /** The images' latents decoded in one VAE call. */
    public List<BufferedImage> decode(List<DenoisingImage> images) {
        return decoder.decode(images.stream().map(DenoisingImage::latent).toList());
    }

    /** What the user gets of {@code request}'s decoded images: PNGs, for inpainting the original outside the mask. */
    public static List<GeneratedImage> results(GenerationRequest request, List<BufferedImage> decoded) {
        List<GeneratedImage> images = new ArrayList<>();
        for (int i = 0; i < decoded.size(); i++) {
            BufferedImage pixels = request.init() != null && request.init().inpainting()
                    ? InpaintComposite.apply(decoded.get(i), request.init()) : decoded.get(i);
            images.add(new GeneratedImage(request.seeds().get(i), request.width(), request.height(),
                    PngEncoder.encode(pixels)));
        }
        return images;
    }
}
