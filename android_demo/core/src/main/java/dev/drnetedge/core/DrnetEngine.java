package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The DRNet pipeline on one decoded image, with per-stage timing: centre crop; for "drnet" the thumbnail,
 * predictor and choice; resize to the chosen (or fixed) resolution; backbone; top-k labels.
 * Decoding is the caller's and is not timed.
 */
public final class DrnetEngine {
    /** Policy name of the dynamic-resolution pipeline. */
    public static final String DRNET = "drnet";

    public final Manifest manifest;
    public final Preprocessor preprocessor;
    private final ModelRunner predictor;
    private final Map<Integer, ModelRunner> backbones;
    private final LongSupplier nanoClock;

    /** @param predictor may be null (then "drnet" always takes resolutions[0], like the Python runtime) */
    public DrnetEngine(Manifest manifest, ModelRunner predictor, Map<Integer, ModelRunner> backbones,
            LongSupplier nanoClock) {
        this.manifest = manifest;
        this.preprocessor = new Preprocessor(manifest.preprocess);
        this.predictor = predictor;
        this.backbones = new HashMap<>(backbones);
        this.nanoClock = nanoClock;
        for (int r : manifest.resolutions) {
            if (!this.backbones.containsKey(r)) {
                throw new IllegalArgumentException("no runner for backbone_" + r);
            }
        }
    }

    public DrnetEngine(Manifest manifest, ModelRunner predictor, Map<Integer, ModelRunner> backbones) {
        this(manifest, predictor, backbones, System::nanoTime);
    }

    /** "fixed-&lt;R&gt;", the name of the fixed-resolution baseline policy. */
    public static String fixedPolicy(int resolution) {
        return "fixed-" + resolution;
    }

    /** All policies the bench runs: "drnet", then "fixed-R" for every resolution in manifest order. */
    public List<String> policies() {
        List<String> out = new ArrayList<>();
        out.add(DRNET);
        for (int r : manifest.resolutions) {
            out.add(fixedPolicy(r));
        }
        return out;
    }

    /** Resolution of a "fixed-R" policy, or 0 for "drnet". */
    public static int fixedResolutionOf(String policy) {
        if (DRNET.equals(policy)) {
            return 0;
        }
        if (policy.startsWith("fixed-")) {
            return Integer.parseInt(policy.substring("fixed-".length()));
        }
        throw new IllegalArgumentException("unknown policy " + policy);
    }

    /** Outcome and timings of one classification. */
    public static final class Result {
        public final String policy;
        public final int resolution;
        public final int resolutionIndex;
        /** Predictor outputs (null for fixed policies). */
        public final float[] predictorLogits;
        public final float[] logits;
        public final List<Prediction> top;
        public final double cropMs;
        /** Each resize + normalisation, in order (thumbnail first for drnet). */
        public final List<Double> resizeMs;
        /** NaN for fixed policies. */
        public final double predictorMs;
        public final double backboneMs;
        /** Crop + resizes + predictor + backbone (decode excluded). */
        public final double totalMs;
        public final long macs;

        Result(String policy, int resolution, int resolutionIndex, float[] predictorLogits, float[] logits,
                List<Prediction> top, double cropMs, List<Double> resizeMs, double predictorMs, double backboneMs,
                double totalMs, long macs) {
            this.policy = policy;
            this.resolution = resolution;
            this.resolutionIndex = resolutionIndex;
            this.predictorLogits = predictorLogits;
            this.logits = logits;
            this.top = top;
            this.cropMs = cropMs;
            this.resizeMs = Collections.unmodifiableList(resizeMs);
            this.predictorMs = predictorMs;
            this.backboneMs = backboneMs;
            this.totalMs = totalMs;
            this.macs = macs;
        }
    }

    private double ms(long t0, long t1) {
        return (t1 - t0) / 1e6;
    }

    /** Run one policy ("drnet" or "fixed-R") on a decoded image. */
    public Result classify(RgbImage decoded, String policy, int topK) throws Exception {
        int fixed = fixedResolutionOf(policy);
        List<Double> resizes = new ArrayList<>();
        long t0 = nanoClock.getAsLong();
        RgbImage square = preprocessor.centerCrop(decoded);
        long t1 = nanoClock.getAsLong();
        double cropMs = ms(t0, t1);
        float[] pLogits = null;
        double predMs = Double.NaN;
        int k;
        long macs = 0;
        if (fixed == 0) {
            if (predictor != null) {
                long a = nanoClock.getAsLong();
                float[] thumb = preprocessor.toNchw(preprocessor.resize(square, manifest.predictorInput));
                long b = nanoClock.getAsLong();
                pLogits = predictor.run(thumb);
                long c = nanoClock.getAsLong();
                resizes.add(ms(a, b));
                predMs = ms(b, c);
                k = ResolutionChooser.chooseIndex(pLogits, manifest.resolutions.size());
                macs += manifest.predictor().macs;
            } else {
                k = 0;
            }
        } else {
            k = manifest.resolutions.indexOf(fixed);
            if (k < 0) {
                throw new IllegalArgumentException("resolution " + fixed + " is not one of " + manifest.resolutions);
            }
        }
        int r = manifest.resolutions.get(k);
        long a = nanoClock.getAsLong();
        float[] x = preprocessor.toNchw(preprocessor.resize(square, r));
        long b = nanoClock.getAsLong();
        float[] logits = backbones.get(r).run(x);
        long c = nanoClock.getAsLong();
        resizes.add(ms(a, b));
        macs += manifest.backbone(r).macs;
        List<Prediction> top = Prediction.decode(logits, topK, manifest.classNames);
        return new Result(policy, r, k, pLogits, logits, top, cropMs, resizes, predMs, ms(b, c), ms(t0, c), macs);
    }
}
