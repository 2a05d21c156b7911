package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The deployed rule of every policy on one image: exactly {@code drnet_edge.cascade.run_spec}. The caller
 * supplies how to run the backbone at resolution index k (returning its logits) and the predictor (returning
 * its chosen index); this class decides what runs and which pass answers. Every pass counts: an escalated
 * image pays for each resolution it ran.
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
        /** Logits of the answering pass. */
        public final float[] logits;
        /** The predictor's choice, or -1 when the policy did not run it. */
        public final int predictorChoice;

        Outcome(int top1, int answeredIndex, List<Integer> ran, List<Double> maxSoftmax, float[] logits,
                int predictorChoice) {
            this.top1 = top1;
            this.answeredIndex = answeredIndex;
            this.ran = Collections.unmodifiableList(ran);
            this.maxSoftmax = Collections.unmodifiableList(maxSoftmax);
            this.logits = logits;
            this.predictorChoice = predictorChoice;
        }

        /** More than one resolution ran. */
        public boolean escalated() {
            return ran.size() > 1;
        }
    }

    /** Run {@code spec} on one image. {@code predictor} may be null for policies that do not use it. */
    public static Outcome run(PolicySpec spec, Backbone backbone, Predictor predictor) throws Exception {
        List<Integer> ran = new ArrayList<>();
        List<Double> conf = new ArrayList<>();
        switch (spec.kind) {
            case FIXED: {
                float[] z = pass(backbone, spec.resolutionIndex, ran, conf);
                return new Outcome(ResolutionChooser.argmax(z), spec.resolutionIndex, ran, conf, z, -1);
            }
            case CASCADE: {
                List<Integer> idx = spec.chainIndices;
                for (int i = 0; i < idx.size(); i++) {
                    int k = idx.get(i);
                    float[] z = pass(backbone, k, ran, conf);
                    boolean last = i == idx.size() - 1;
                    if (last || conf.get(i) >= spec.thresholds.get(i)) {
                        return new Outcome(ResolutionChooser.argmax(z), k, ran, conf, z, -1);
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
                float[] z = pass(backbone, k, ran, conf);
                if (spec.kind == PolicySpec.Kind.DRNET_ESCALATE && k != 0 && conf.get(0) < spec.threshold) {
                    float[] z0 = pass(backbone, 0, ran, conf);
                    return new Outcome(ResolutionChooser.argmax(z0), 0, ran, conf, z0, k);
                }
                return new Outcome(ResolutionChooser.argmax(z), k, ran, conf, z, k);
            }
            default:
                throw new AssertionError(spec.kind);
        }
    }

    private static float[] pass(Backbone backbone, int k, List<Integer> ran, List<Double> conf) throws Exception {
        float[] z = backbone.run(k);
        ran.add(k);
        conf.add(maxSoftmax(z));
        return z;
    }

    /**
     * The largest softmax probability of a logit vector, {@code 1 / sum(exp(z - max z))} in double precision
     * (drnet_edge.cascade.max_softmax). NaN logits give NaN, which never reaches a threshold.
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
}
