package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The deployed rule of every policy on one image: exactly {@code drnet_edge.policy.spec.run_spec}. The caller
 * supplies how to run the backbone at resolution index k (returning its logits) and the predictor (returning
 * its chosen index); this class decides what runs and which pass answers. Every pass counts: an escalated
 * image pays for each resolution it ran. A cascade stage compares its threshold with the pass's max softmax, or
 * with its margin (top-1 minus top-2 softmax probability) when the spec's {@link PolicySpec#signal} is MARGIN;
 * drnet-escalate always compares the max softmax.
 */
public final class PolicyRunner {
    private PolicyRunner() {}

    /** The backbone at resolution index {@code k} on the image: float32 logits. */
    public interface Backbone {
        float[] run(int index) throws Exception;
    }

    /** The resolution predictor on the image: the chosen resolution index (its argmax). */
    public interface Predictor {
        int choose() throws Exception;
    }

    /** What a policy did on one image. */
    public static final class Outcome {
        /** Top-1 class of the answering pass (argmax of its logits; ties to the lower index). */
        public final int top1;
        /** Resolution index answered at. */
        public final int answeredIndex;
        /** Resolution indices run, in order (the answering one is last). */
        public final List<Integer> ran;
        /** Max softmax of each pass, aligned with {@link #ran}. */
        public final List<Double> maxSoftmax;
        /** Margin (top-1 minus top-2 softmax probability) of each pass, aligned with {@link #ran}. */
        public final List<Double> margin;
        /** Logits of the answering pass. */
        public final float[] logits;
        /** The predictor's choice, or -1 when the policy did not run it. */
        public final int predictorChoice;

        Outcome(int top1, int answeredIndex, Passes passes, float[] logits, int predictorChoice) {
            this.top1 = top1;
            this.answeredIndex = answeredIndex;
            this.ran = Collections.unmodifiableList(passes.ran);
            this.maxSoftmax = Collections.unmodifiableList(passes.maxSoftmax);
            this.margin = Collections.unmodifiableList(passes.margin);
            this.logits = logits;
            this.predictorChoice = predictorChoice;
        }

        /** More than one resolution ran. */
        public boolean escalated() {
            return ran.size() > 1;
        }
    }

    /** The passes run so far: resolution index, max softmax and margin of each. */
    private static final class Passes {
        final List<Integer> ran = new ArrayList<>();
        final List<Double> maxSoftmax = new ArrayList<>();
        final List<Double> margin = new ArrayList<>();

        float[] run(Backbone backbone, int k) throws Exception {
            float[] z = backbone.run(k);
            ran.add(k);
            maxSoftmax.add(maxSoftmax(z));
            margin.add(margin(z));
            return z;
        }
    }

    /** Run {@code spec} on one image. {@code predictor} may be null for policies that do not use it. */
    public static Outcome run(PolicySpec spec, Backbone backbone, Predictor predictor) throws Exception {
        Passes passes = new Passes();
        switch (spec.kind) {
            case FIXED: {
                float[] z = passes.run(backbone, spec.resolutionIndex);
                return new Outcome(ResolutionChooser.argmax(z), spec.resolutionIndex, passes, z, -1);
            }
            case CASCADE: {
                List<Integer> idx = spec.chainIndices;
                List<Double> signal = spec.signal == PolicySpec.Signal.MARGIN ? passes.margin : passes.maxSoftmax;
                for (int i = 0; i < idx.size(); i++) {
                    int k = idx.get(i);
                    float[] z = passes.run(backbone, k);
                    boolean last = i == idx.size() - 1;
                    if (last || signal.get(i) >= spec.thresholds.get(i)) {
                        return new Outcome(ResolutionChooser.argmax(z), k, passes, z, -1);
                    }
                }
                throw new AssertionError("unreachable");
            }
            case DRNET:
            case DRNET_ESCALATE: {
                if (predictor == null) {
                    throw new IllegalStateException("policy " + spec.name
                            + " needs the resolution predictor, and these models have none");
                }
                int k = predictor.choose();
                float[] z = passes.run(backbone, k);
                if (spec.kind == PolicySpec.Kind.DRNET_ESCALATE && k != 0
                        && passes.maxSoftmax.get(0) < spec.threshold) {
                    float[] z0 = passes.run(backbone, 0);
                    return new Outcome(ResolutionChooser.argmax(z0), 0, passes, z0, k);
                }
                return new Outcome(ResolutionChooser.argmax(z), k, passes, z, k);
            }
            default:
                throw new AssertionError(spec.kind);
        }
    }

    /**
     * The largest softmax probability of a logit vector, {@code 1 / sum(exp(z - max z))} in double precision
     * (drnet_edge.policy.spec.max_softmax). NaN logits give NaN, which never reaches a threshold.
     */
    public static double maxSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        boolean nan = false;
        for (float v : logits) {
            if (Float.isNaN(v)) {
                nan = true;
            } else if (v > max) {
                max = v;
            }
        }
        if (nan || logits.length == 0) {
            return Double.NaN;
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp((double) v - max);
        }
        return 1.0 / sum;
    }

    /**
     * The top-1 minus the top-2 softmax probability of a logit vector in double precision, as
     * drnet_edge.policy.spec.softmax_signals: {@code p = exp(z - max z) / sum}, then the largest two of p subtracted
     * (a single-class output: its probability, 1). NaN logits (or none) give NaN, which never reaches a threshold.
     */
    public static double margin(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : logits) {
            if (Float.isNaN(v)) {
                return Double.NaN;
            }
            max = Math.max(max, v);
        }
        if (logits.length == 0) {
            return Double.NaN;
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp((double) logits[i] - max);
            sum += p[i];
        }
        if (Double.isNaN(sum)) {
            return Double.NaN; // infinite logits, as numpy
        }
        double top1 = 0.0, top2 = 0.0; // the largest two of p (probabilities; the second 0 for one class)
        for (double e : p) {
            double v = e / sum;
            if (v > top1) {
                top2 = top1;
                top1 = v;
            } else if (v > top2) {
                top2 = v;
            }
        }
        return top1 - top2;
    }
}
