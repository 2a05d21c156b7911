package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.List;

/** Label decoding: top-k of a logits vector. */
public final class Prediction {
    public final int index;
    public final float score;
    /** The class name from the manifest (or the index as text when there is no class list). */
    public final String label;

    public Prediction(int index, float score, String label) {
        this.index = index;
        this.score = score;
        this.label = label;
    }

    /**
     * Indices of the k largest values, largest first; ties go to the lower index (numpy's
     * {@code argsort(-x, kind="stable")[:k]}). NaN never ranks.
     */
    public static int[] topK(float[] logits, int k) {
        int n = Math.min(k, logits.length);
        int[] idx = new int[n];
        int filled = 0;
        for (int i = 0; i < logits.length; i++) {
            float v = logits[i];
            if (Float.isNaN(v)) {
                continue;
            }
            if (filled == n && !(v > logits[idx[n - 1]])) {
                continue;
            }
            int pos = filled < n ? filled++ : n - 1;
            while (pos > 0 && v > logits[idx[pos - 1]]) {
                idx[pos] = idx[pos - 1];
                pos--;
            }
            idx[pos] = i;
        }
        if (filled < n) {
            int[] shorter = new int[filled];
            System.arraycopy(idx, 0, shorter, 0, filled);
            return shorter;
        }
        return idx;
    }

    /** Top-k with labels from the class names (which may be null). */
    public static List<Prediction> decode(float[] logits, int k, List<String> classNames) {
        List<Prediction> out = new ArrayList<>();
        for (int i : topK(logits, k)) {
            String label = classNames != null && i < classNames.size() ? classNames.get(i) : Integer.toString(i);
            out.add(new Prediction(i, logits[i], label));
        }
        return out;
    }

    /** Softmax probability of each of the given indices (for display; logits stay the ranking). */
    public static float[] softmaxAt(float[] logits, int[] indices) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            if (v > max) {
                max = v;
            }
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        float[] out = new float[indices.length];
        for (int j = 0; j < indices.length; j++) {
            out[j] = (float) (Math.exp(logits[indices[j]] - max) / sum);
        }
        return out;
    }

    @Override
    public String toString() {
        return label + " (" + index + ", " + score + ")";
    }
}
