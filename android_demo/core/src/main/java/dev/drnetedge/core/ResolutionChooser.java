package dev.drnetedge.core;

import java.util.List;

/** The DRNet choice: argmax over the predictor's outputs, index k -&gt; resolutions[k]. */
public final class ResolutionChooser {
    private ResolutionChooser() {}

    /** Index of the largest value; the first one on ties (numpy's argmax). NaN is skipped. */
    public static int argmax(float[] scores) {
        int best = -1;
        for (int i = 0; i < scores.length; i++) {
            if (Float.isNaN(scores[i])) {
                continue;
            }
            if (best < 0 || scores[i] > scores[best]) {
                best = i;
            }
        }
        if (best < 0) {
            throw new IllegalArgumentException("no valid predictor output (empty or all NaN)");
        }
        return best;
    }

    /** Choice from float predictor outputs. */
    public static int chooseIndex(float[] logits, int numResolutions) {
        if (logits.length != numResolutions) {
            throw new IllegalArgumentException("predictor gave " + logits.length + " outputs for " + numResolutions
                    + " resolutions");
        }
        return argmax(logits);
    }

    /** Choice from a quantised (int8/uint8) predictor output: dequantised with the manifest's scale / zero point. */
    public static int chooseIndex(byte[] quantized, TensorSpec output, int numResolutions) {
        return chooseIndex(output.dequantize(quantized), numResolutions);
    }

    public static int resolution(List<Integer> resolutions, int index) {
        return resolutions.get(index);
    }
}
