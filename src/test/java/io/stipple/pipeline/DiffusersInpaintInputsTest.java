package io.stipple.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.stipple.model.TorchScriptModule;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * What an inpainting request's image and mask become before the U-Net, against diffusers' own
 * StableDiffusionInpaintPipeline code (src/tools/reference/make_inpaint_inputs_reference.py): the mask binarised as its
 * mask processor does (PIL's luma, 1 from one half up), resized to the latent's size as prepare_mask_latents does
 * (nearest: each cell's top-left pixel), and the image the VAE encodes, in [-1, 1] with what is repainted set to
 * 0 ({@code init_image * (mask_condition < 0.5)}). The encoder is a probe that returns its input
 * (make_probe_modules.py), so the pixels {@link ImageEncoder} hands the VAE are compared as they are.
 */
class DiffusersInpaintInputsTest {
    private static final Path REFERENCE = Path.of("src/test/resources/reference");
    private static final Path INPAINT = REFERENCE.resolve("inpaint-inputs");

    private static Golden golden;
    private static BufferedImage image;
    private static BufferedImage mask;
    private static TorchScriptModule identityEncoder;
    private static NDManager manager;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Golden(
            @JsonProperty("width") int width,
            @JsonProperty("height") int height,
            @JsonProperty("vae_scale_factor") int vaeScaleFactor,
            @JsonProperty("init_image") float[][][][] initImage,
            @JsonProperty("mask_condition") float[][][][] maskCondition,
            @JsonProperty("masked_image") float[][][][] maskedImage,
            @JsonProperty("latent_mask") float[][][][] latentMask) {
    }

    @BeforeAll
    static void load() throws IOException {
        golden = JsonMapper.builder().build().readValue(INPAINT.resolve("inpaint.json").toFile(), Golden.class);
        image = ImageIO.read(INPAINT.resolve("image.png").toFile());
        mask = ImageIO.read(INPAINT.resolve("mask.png").toFile());
        identityEncoder = TorchScriptModule.load(REFERENCE, "identity_vae_encoder.pt", Device.cpu());
        manager = NDManager.newBaseManager(Device.cpu());
    }

    @AfterAll
    static void close() {
        manager.close();
        identityEncoder.close();
    }

    @Test
    void everyMaskPixelIsBinarisedAsDiffusersDoes() {
        float[][] expected = golden.maskCondition()[0][0];
        List<String> wrong = new ArrayList<>();
        for (int y = 0; y < golden.height(); y++) {
            for (int x = 0; x < golden.width(); x++) {
                int rgb = mask.getRGB(x, y);
                boolean repaint = expected[y][x] == 1f;
                if (MaskLevels.repaint(rgb) != repaint) {
                    wrong.add(String.format("(%d, %d) #%06x: diffusers %s", x, y, rgb & 0xffffff,
                            repaint ? "repaints" : "keeps"));
                }
            }
        }
        assertEquals(List.of(), wrong);
    }

    @Test
    void theLatentMaskIsTheMaskResizedAsDiffusersResizesIt() {
        float[] latentMask = ImageStart.latentMask(manager, mask, golden.vaeScaleFactor()).toFloatArray();
        assertArrayEquals(flat(golden.latentMask()), latentMask);
    }

    @Test
    void theVaeEncodesTheImageWithTheRepaintedPartBlankedOut() {
        ImageEncoder encoder = new ImageEncoder(identityEncoder, 1.0);
        assertArrayEquals(flat(golden.maskedImage()), encoder.encodeMasked(manager, image, mask).toFloatArray(),
                1e-6f);
        assertArrayEquals(flat(golden.initImage()), encoder.encode(manager, image).toFloatArray(), 1e-6f);
    }

    private static float[] flat(float[][][][] nchw) {
        List<Float> values = new ArrayList<>();
        for (float[][][] chw : nchw) {
            for (float[][] hw : chw) {
                for (float[] w : hw) {
                    for (float v : w) {
                        values.add(v);
                    }
                }
            }
        }
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
