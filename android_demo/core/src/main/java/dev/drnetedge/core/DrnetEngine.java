package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The pipeline on one decoded image under a policy, with per-stage timing: centre crop; the thumbnail and
 * predictor when the policy uses them; for each resolution the policy runs, one resize + normalisation and the
 * backbone (an int8 model whose runner {@link ModelRunner#takesQuantized takes its integer input} gets the bytes
 * straight from the pixels through one table lookup, no float buffer); top-k labels of the answering pass. The decisions are {@link PolicyRunner}'s (the same rule as
 * {@code drnet_edge.policy.spec.run_spec}); the default policy is the manifest's ({@link Manifest#defaultPolicy}).
 * Decoding is the caller's and is not timed.
 */
public final class DrnetEngine {
    /** Policy name of the predictor's choice. */
    public static final String DRNET = "drnet";

    public final Manifest manifest;
    public final Preprocessor preprocessor;
    private final ModelRunner predictor;
    private final List<ModelRunner> backbones;
    private final LongSupplier nanoClock;
    private final Map<String, PolicySpec> policies = new LinkedHashMap<>();
    /** Per backbone (and the predictor): the pixel -&gt; quantised input table, or null for the float path. */
    private final List<byte[]> backboneTables = new ArrayList<>();
    private final byte[] predictorTable;

    /**
     * @param predictor may be null only when the manifest holds no predictor (then the policies that need it,
     *     "drnet" and "drnet-escalate", are not offered)
     * @param backbones one runner per resolution index, in the manifest's order (backbones.get(k) takes
     *     resolutions[k] px)
     * @param extraPolicies further policies to offer (e.g. a cascade to compare), after the default, "drnet"
     *     and the fixed resolutions; may be null
     */
    public DrnetEngine(Manifest manifest, ModelRunner predictor, List<ModelRunner> backbones, LongSupplier nanoClock,
            List<PolicySpec> extraPolicies) {
        this.manifest = manifest;
        this.preprocessor = new Preprocessor(manifest.preprocess);
        this.predictor = predictor;
        this.backbones = Collections.unmodifiableList(new ArrayList<>(backbones));
        this.nanoClock = nanoClock;
        if (backbones.size() != manifest.resolutions.size() || backbones.contains(null)) {
            throw new IllegalArgumentException("need one backbone runner per resolution " + manifest.resolutions
                    + ", got " + backbones.size());
        }
        if (predictor == null && manifest.hasPredictor() && manifest.defaultPolicy.usesPredictor()) {
            throw new IllegalArgumentException("the default policy " + manifest.defaultPolicy.name
                    + " needs the predictor, and no runner was given for it");
        }
        for (int k = 0; k < backbones.size(); k++) {
            backboneTables.add(tableFor(backbones.get(k), manifest.backboneAt(k)));
        }
        this.predictorTable = predictor == null ? null : tableFor(predictor, manifest.predictor());
        boolean canPredict = predictor != null;
        add(manifest.defaultPolicy);
        if (canPredict) {
            add(PolicySpec.drnet(true));
        }
        for (int k = 0; k < manifest.resolutions.size(); k++) {
            add(PolicySpec.fixed(k, manifest.resolutions));
        }
        if (extraPolicies != null) {
            for (PolicySpec p : extraPolicies) {
                if (p.usesPredictor() && !canPredict) {
                    throw new IllegalArgumentException("policy " + p.name + " needs the predictor");
                }
                add(p);
            }
        }
    }

    public DrnetEngine(Manifest manifest, ModelRunner predictor, List<ModelRunner> backbones, LongSupplier nanoClock) {
        this(manifest, predictor, backbones, nanoClock, null);
    }

    public DrnetEngine(Manifest manifest, ModelRunner predictor, List<ModelRunner> backbones) {
        this(manifest, predictor, backbones, System::nanoTime, null);
    }

    private byte[] tableFor(ModelRunner runner, ModelInfo info) {
        return runner.takesQuantized() && info.input.isQuantized() ? preprocessor.inputTable(info.input) : null;
    }

    /** A model's input from a resized crop: its integer bytes through its table, else normalised floats. */
    private Object input(RgbImage img, byte[] table) {
        return table != null ? preprocessor.toQuantizedNchw(img, table) : preprocessor.toNchw(img);
    }

    /** Run a model on what {@link #input} made for it. */
    private static float[] run(ModelRunner runner, Object x) throws Exception {
        return x instanceof byte[] ? runner.runQuantized((byte[]) x) : runner.run((float[]) x);
    }

    private void add(PolicySpec p) {
        // the same rule under two names (e.g. a calibrated "drnet") runs once, under the first name
        if (!policies.containsKey(p.name) && !policies.containsValue(p)) {
            policies.put(p.name, p);
        }
    }

    /** "fixed-&lt;R&gt;", the name of the fixed-resolution baseline policy. */
    public static String fixedPolicy(int resolution) {
        return "fixed-" + resolution;
    }

    /** The default policy (the manifest's, else "drnet", else the largest fixed resolution). */
    public PolicySpec defaultPolicy() {
        return manifest.defaultPolicy;
    }

    /**
     * All policies the bench runs, by name: the default policy, "drnet" (when there is a predictor), "fixed-R"
     * for every resolution in manifest order, then any extra ones. A rule already listed under another name is
     * not repeated.
     */
    public List<String> policies() {
        return new ArrayList<>(policies.keySet());
    }

    /** A policy by name: one of {@link #policies()}, or any name {@link PolicySpec#parseName} reads. */
    public PolicySpec policy(String name) {
        PolicySpec p = policies.get(name);
        return p != null ? p : manifest.policyNamed(name);
    }

    /** Outcome and timings of one classification. */
    public static final class Result {
        public final String policy;
        public final PolicySpec spec;
        /** Resolution answered at (px) and its index. */
        public final int resolution;
        public final int resolutionIndex;
        /** Resolution indices run, in order (the answering one last); more than one when escalated. */
        public final List<Integer> ranIndices;
        /** The same as resolutions (px). */
        public final List<Integer> ranResolutions;
        /** Max softmax of each pass, aligned with {@link #ranIndices}. */
        public final List<Double> maxSoftmax;
        /** Predictor outputs (null when the policy did not run the predictor). */
        public final float[] predictorLogits;
        /** The predictor's choice (index), or -1. */
        public final int predictorChoice;
        /** Logits of the answering pass. */
        public final float[] logits;
        public final List<Prediction> top;
        public final double cropMs;
        /** Each resize + normalisation, in order (the thumbnail first when the predictor ran). */
        public final List<Double> resizeMs;
        /** NaN when the predictor did not run. */
        public final double predictorMs;
        /** Each backbone pass, aligned with {@link #ranIndices}. */
        public final List<Double> backbonePassMs;
        /** Sum of the backbone passes. */
        public final double backboneMs;
        /** Crop + resizes + predictor + backbone(s) + the policy's decisions (decode excluded). */
        public final double totalMs;
        /** Predictor (when run) + every backbone pass, from the manifest. */
        public final long macs;

        Result(String policy, PolicySpec spec, List<Integer> resolutions, PolicyRunner.Outcome o,
                float[] predictorLogits, List<Prediction> top, double cropMs, List<Double> resizeMs,
                double predictorMs, List<Double> backbonePassMs, double totalMs, long macs) {
            this.policy = policy;
            this.spec = spec;
            this.resolutionIndex = o.answeredIndex;
            this.resolution = resolutions.get(o.answeredIndex);
            this.ranIndices = o.ran;
            List<Integer> px = new ArrayList<>();
            for (int k : o.ran) {
                px.add(resolutions.get(k));
            }
            this.ranResolutions = Collections.unmodifiableList(px);
            this.maxSoftmax = o.maxSoftmax;
            this.predictorLogits = predictorLogits;
            this.predictorChoice = o.predictorChoice;
            this.logits = o.logits;
            this.top = top;
            this.cropMs = cropMs;
            this.resizeMs = Collections.unmodifiableList(resizeMs);
            this.predictorMs = predictorMs;
            this.backbonePassMs = Collections.unmodifiableList(backbonePassMs);
            double sum = 0;
            for (double v : backbonePassMs) {
                sum += v;
            }
            this.backboneMs = sum;
            this.totalMs = totalMs;
            this.macs = macs;
        }

        /** More than one resolution ran (the policy escalated). */
        public boolean escalated() {
            return ranIndices.size() > 1;
        }

        /** Whether the predictor ran. */
        public boolean usedPredictor() {
            return predictorLogits != null;
        }
    }

    private double ms(long t0, long t1) {
        return (t1 - t0) / 1e6;
    }

    /** Run a policy by name (see {@link #policy(String)}) on a decoded image. */
    public Result classify(RgbImage decoded, String policy, int topK) throws Exception {
        return classify(decoded, policy(policy), topK);
    }

    /** Run the default policy on a decoded image. */
    public Result classifyDefault(RgbImage decoded, int topK) throws Exception {
        return classify(decoded, manifest.defaultPolicy, topK);
    }

    /** Run {@code spec} on a decoded image. */
    public Result classify(RgbImage decoded, PolicySpec spec, int topK) throws Exception {
        final List<Double> resizes = new ArrayList<>();
        final List<Double> passes = new ArrayList<>();
        final float[][] pLogits = {null};
        final double[] predMs = {Double.NaN};
        final long[] macs = {0};
        long t0 = nanoClock.getAsLong();
        final RgbImage square = preprocessor.centerCrop(decoded);
        long t1 = nanoClock.getAsLong();
        PolicyRunner.Backbone backbone = k -> {
            long a = nanoClock.getAsLong();
            Object x = input(preprocessor.resize(square, manifest.resolutions.get(k)), backboneTables.get(k));
            long b = nanoClock.getAsLong();
            float[] logits = run(backbones.get(k), x);
            long c = nanoClock.getAsLong();
            resizes.add(ms(a, b));
            passes.add(ms(b, c));
            macs[0] += manifest.backboneAt(k).macs;
            return logits;
        };
        PolicyRunner.Predictor choose = predictor == null ? null : () -> {
            long a = nanoClock.getAsLong();
            Object thumb = input(preprocessor.resize(square, manifest.predictorInput), predictorTable);
            long b = nanoClock.getAsLong();
            float[] out = run(predictor, thumb);
            long c = nanoClock.getAsLong();
            resizes.add(ms(a, b));
            predMs[0] = ms(b, c);
            pLogits[0] = out;
            macs[0] += manifest.predictor().macs;
            return ResolutionChooser.chooseIndex(out, manifest.resolutions.size());
        };
        PolicyRunner.Outcome o = PolicyRunner.run(spec, backbone, choose);
        long t2 = nanoClock.getAsLong();
        List<Prediction> top = Prediction.decode(o.logits, topK, manifest.classNames);
        return new Result(spec.name, spec, manifest.resolutions, o, pLogits[0], top, ms(t0, t1), resizes, predMs[0],
                passes, ms(t0, t2), macs[0]);
    }
}
