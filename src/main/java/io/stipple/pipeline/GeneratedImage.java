package io.stipple.pipeline;

/** One finished image: its seed and its PNG file. */
public record GeneratedImage(long seed, int width, int height, byte[] png) {
}
