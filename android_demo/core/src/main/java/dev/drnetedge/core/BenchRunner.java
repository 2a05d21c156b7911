package dev.drnetedge.core;

import java.util.List;
import java.util.Map;

/**
 * The headless bench loop (BenchActivity calls it on the phone): every image through every policy of the
 * engine (the manifest's default policy, "drnet" when there is a predictor, every "fixed-R", and any extra
 * ones), {@code runs} timed repetitions each after {@code warmup} untimed runs of every policy on the first
 * image. Decoding happens outside the timed region. Multi-pass policies (cascade, drnet-escalate) are timed
 * over every pass they run.
 */
public final class BenchRunner {
    private BenchRunner() {}

    /** A folder of images: decoded on demand; label = class index or -1. */
    public interface ImageSource {
        int size();

        String name(int i);

        int label(int i);

        RgbImage load(int i) throws Exception;
    }

    public interface Progress {
        void log(String message);
    }

    public static BenchRecorder run(DrnetEngine engine, ImageSource images, int runs, int warmup, Progress progress)
            throws Exception {
        if (images.size() == 0) {
            throw new IllegalArgumentException("no images to bench");
        }
        if (runs < 1) {
            throw new IllegalArgumentException("runs must be >= 1");
        }
        List<String> policies = engine.policies();
        BenchRecorder rec = new BenchRecorder(engine.manifest.resolutions);
        rec.setDefaultPolicy(engine.defaultPolicy().name);
        for (String p : policies) {
            rec.declare(p, engine.policy(p));
        }
        RgbImage first = images.load(0);
        for (int w = 0; w < warmup; w++) {
            for (String p : policies) {
                engine.classify(first, p, 5);
            }
        }
        if (progress != null) {
            progress.log("warm-up done (" + warmup + " x " + policies.size() + " policies)");
        }
        for (int i = 0; i < images.size(); i++) {
            RgbImage img = images.load(i);
            int label = images.label(i);
            for (String p : policies) {
                for (int r = 0; r < runs; r++) {
                    rec.add(engine.classify(img, p, 5), label);
                }
            }
            if (progress != null && (i + 1 == images.size() || (i + 1) % 10 == 0)) {
                progress.log((i + 1) + "/" + images.size() + " images");
            }
        }
        return rec;
    }

    /** Class index of an image from its parent folder name (a class id such as a wnid), or -1. */
    public static int labelFromFolder(Manifest manifest, String folderName) {
        return folderName == null ? -1 : manifest.classIndex(folderName);
    }

    /** Convenience: the extra top-level keys the app writes. */
    public static void putRunInfo(Map<String, Object> extra, Manifest m, int runs, int warmup) {
        extra.put("runs", runs);
        extra.put("warmup", warmup);
        extra.put("target", m.target);
        extra.put("precision", m.precision);
        extra.put("source_model", m.sourceModel);
        extra.put("resolutions", m.resolutions);
        extra.put("manifest_version", m.version);
    }
}
