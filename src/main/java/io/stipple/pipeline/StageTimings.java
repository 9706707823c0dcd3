package io.stipple.pipeline;

/** Milliseconds spent per stage of one request, as reported to the user. */
public record StageTimings(double queue, double textEncoding, double denoising, double decoding, double pngEncoding) {

    public double total() {
        return queue + textEncoding + denoising + decoding + pngEncoding;
    }
}
