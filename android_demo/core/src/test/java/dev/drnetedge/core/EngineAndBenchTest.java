package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The pipeline and the bench loop with plain-Java models and a fake clock (every clock read advances 1 ms). */
class EngineAndBenchTest {
    /** Predictor choosing resolutions[index]; records the input size it was given. */
    static final class FakeModel implements ModelRunner {
        final float[] output;
        final List<Integer> inputSizes = new ArrayList<>();

        FakeModel(float... output) {
            this.output = output;
        }

        @Override
        public float[] run(float[] nchw) {
            inputSizes.add((int) Math.round(Math.sqrt(nchw.length / 3.0)));
            return output.clone();
        }
    }

    /** An int8 model's runner that takes the integer input bytes (as the app's LiteRT runner does). */
    static final class QuantModel implements ModelRunner {
        final float[] output;
        final List<byte[]> inputs = new ArrayList<>();

        QuantModel(float... output) {
            this.output = output;
        }

        @Override
        public float[] run(float[] nchw) {
            throw new AssertionError("an int8 runner that takes bytes must not get floats");
        }

        @Override
        public boolean takesQuantized() {
            return true;
        }

        @Override
        public float[] runQuantized(byte[] nchw) {
            inputs.add(nchw.clone());
            return output.clone();
        }
    }

    @Test
    void int8RunnersGetTheirInputBytesStraightFromThePixels() throws Exception {
        Manifest m = small();
        QuantModel pred = new QuantModel(0.1f, 0.9f), b96 = new QuantModel(0f, 5f, 1f), b64 = new QuantModel(3f, 1f, 2f);
        DrnetEngine e = new DrnetEngine(m, pred, Arrays.asList(b96, b64));
        RgbImage img = image(150, 120, 2);
        DrnetEngine.Result r = e.classify(img, "drnet", 1);
        assertEquals(64, r.resolution);
        Preprocessor pre = e.preprocessor;
        RgbImage sq = pre.centerCrop(img);
        assertArrayEquals(m.predictor().input.quantize(pre.toNchw(pre.resize(sq, 32))), pred.inputs.get(0));
        assertArrayEquals(m.backboneAt(1).input.quantize(pre.toNchw(pre.resize(sq, 64))), b64.inputs.get(0));
        assertTrue(b96.inputs.isEmpty());
    }

    static Manifest small() {
        return Manifest.parse(ManifestTest.int8Manifest("\"scale\": 0.1, \"zero_point\": 0"), "tflite");
    }

    static RgbImage image(int w, int h, int seed) {
        byte[] px = new byte[w * h * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 31 + seed * 17);
        }
        return new RgbImage(w, h, px);
    }

    @Test
    void drnetRunsPredictorThenChosenBackbone() throws Exception {
        Manifest m = small();
        FakeModel pred = new FakeModel(0.1f, 0.9f); // chooses index 1 -> 64
        FakeModel b96 = new FakeModel(0f, 5f, 1f), b64 = new FakeModel(3f, 1f, 2f);
        List<ModelRunner> bb = Arrays.asList(b96, b64); // by resolution index: [96, 64]
        AtomicLong clock = new AtomicLong();
        DrnetEngine e = new DrnetEngine(m, pred, bb, () -> clock.addAndGet(1_000_000));
        assertEquals(Arrays.asList("drnet", "fixed-96", "fixed-64"), e.policies());

        assertEquals("drnet", e.defaultPolicy().name);
        DrnetEngine.Result r = e.classify(image(150, 120, 1), "drnet", 2);
        assertEquals(64, r.resolution);
        assertEquals(1, r.resolutionIndex);
        assertEquals(Arrays.asList(1), r.ranIndices);
        assertEquals(Arrays.asList(64), r.ranResolutions);
        assertFalse(r.escalated());
        assertTrue(r.usedPredictor());
        assertEquals(1, r.predictorChoice);
        assertEquals(Arrays.asList(32), pred.inputSizes);
        assertEquals(Arrays.asList(64), b64.inputSizes);
        assertTrue(b96.inputSizes.isEmpty());
        assertEquals(0, r.top.get(0).index);
        assertEquals("A", r.top.get(0).label);
        assertEquals("C", r.top.get(1).label);
        assertEquals(2, r.resizeMs.size());
        assertEquals(1.0, r.predictorMs);
        assertEquals(1.0, r.backboneMs);
        assertEquals(8.0, r.totalMs); // 9 clock reads, 1 ms apart
        assertEquals(20, r.macs); // predictor + backbone

        DrnetEngine.Result f = e.classify(image(150, 120, 1), "fixed-96", 5);
        assertEquals(96, f.resolution);
        assertNull(f.predictorLogits);
        assertEquals(-1, f.predictorChoice);
        assertTrue(Double.isNaN(f.predictorMs));
        assertEquals(5.0, f.totalMs); // crop 2 reads, resize + backbone 3, end 1
        assertEquals(3, f.top.size());
        assertEquals("B", f.top.get(0).label);
        assertEquals(10, f.macs);
    }

    @Test
    void benchWritesTheDocumentedSchema() throws Exception {
        Manifest m = small();
        List<ModelRunner> bb = Arrays.asList(new FakeModel(0f, 5f, 1f), // 96 says "b"
                new FakeModel(3f, 1f, 2f)); // 64 says "a"
        AtomicLong clock = new AtomicLong();
        DrnetEngine e = new DrnetEngine(m, new FakeModel(2f, 1f), bb, () -> clock.addAndGet(1_000_000));
        final List<RgbImage> imgs = Arrays.asList(image(40, 50, 1), image(70, 33, 2), image(64, 64, 3));
        final int[] labels = {1, 0, -1};
        List<String> log = new ArrayList<>();
        BenchRecorder rec = BenchRunner.run(e, new BenchRunner.ImageSource() {
            @Override
            public int size() {
                return imgs.size();
            }

            @Override
            public String name(int i) {
                return "img" + i;
            }

            @Override
            public int label(int i) {
                return labels[i];
            }

            @Override
            public RgbImage load(int i) {
                return imgs.get(i);
            }
        }, 2, 1, log::add);
        Map<String, Object> extra = new LinkedHashMap<>();
        BenchRunner.putRunInfo(extra, m, 2, 1);
        Map<String, Object> device = new LinkedHashMap<>();
        device.put("model", "JVM");
        device.put("sdk", 0);
        String text = rec.toJson(device, 4, imgs.size(), extra);
        Map<String, Object> doc = Json.parseObject(text);

        assertEquals("drnet-edge/app-bench", doc.get("format"));
        assertEquals(2L, doc.get("version"));
        assertEquals("drnet", doc.get("default_policy"));
        assertEquals(1L, doc.get("manifest_version"));
        assertEquals("JVM", Json.obj(doc.get("device"), "device").get("model"));
        assertEquals(4L, doc.get("threads"));
        assertEquals(3L, doc.get("n_images"));
        Map<String, Object> policies = Json.obj(doc.get("policies"), "policies");
        assertEquals(Arrays.asList("drnet", "fixed-96", "fixed-64"), new ArrayList<>(policies.keySet()));
        for (Map.Entry<String, Object> p : policies.entrySet()) {
            Map<String, Object> v = Json.obj(p.getValue(), p.getKey());
            for (String k : new String[] {"latency_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
                    "latency_std_ms", "n", "resolution_share", "top1", "pass_share", "escalation_rate",
                    "mean_passes", "uses_predictor", "spec", "macs"}) {
                assertTrue(v.containsKey(k), p.getKey() + " lacks " + k);
            }
            assertEquals(6L, v.get("n")); // 3 images x 2 runs
            Map<String, Object> share = Json.obj(v.get("resolution_share"), "share");
            assertEquals(Arrays.asList("96", "64"), new ArrayList<>(share.keySet()));
            double total = 0;
            for (Object s : share.values()) {
                total += Json.num(s, "share");
            }
            assertEquals(1.0, total, 1e-12);
            assertEquals(2L, v.get("n_labelled") == null ? -1L : Json.integer(v.get("n_labelled"), "n") / 2);
        }
        Map<String, Object> drnet = Json.obj(policies.get("drnet"), "drnet");
        assertEquals(1.0, Json.num(Json.obj(drnet.get("resolution_share"), "s").get("96"), "s"));
        assertEquals(0.5, Json.num(drnet.get("top1"), "top1")); // says "b": right for image 0 only
        assertEquals(8.0, Json.num(drnet.get("latency_ms"), "ms"));
        assertEquals(0.0, Json.num(drnet.get("latency_std_ms"), "std"));
        assertEquals(0.0, Json.num(drnet.get("escalation_rate"), "esc"));
        assertEquals(1.0, Json.num(drnet.get("mean_passes"), "passes"));
        assertEquals(true, drnet.get("uses_predictor"));
        assertEquals("drnet", Json.obj(drnet.get("spec"), "spec").get("kind"));
        Map<String, Object> f64 = Json.obj(policies.get("fixed-64"), "f64");
        assertEquals(0.5, Json.num(f64.get("top1"), "top1")); // says "a": right for image 1 only
        assertEquals(5.0, Json.num(f64.get("latency_ms"), "ms")); // 6 clock reads
        assertEquals(false, f64.get("uses_predictor"));
        assertEquals(1L, Json.obj(f64.get("spec"), "spec").get("resolution_index"));
        assertEquals(1.0, Json.num(Json.obj(f64.get("pass_share"), "s").get("64"), "s"));
        Map<String, Object> stages = Json.obj(doc.get("stages_ms"), "stages");
        assertEquals(Arrays.asList("predictor", "crop", "resize", "backbone_96", "backbone_64"),
                new ArrayList<>(stages.keySet()));
        assertEquals(1.0, Json.num(stages.get("predictor"), "p"));
        assertEquals(2L, doc.get("runs"));
        assertTrue(log.get(log.size() - 1).startsWith("3/3"));
    }

    /** A backbone whose logits depend on nothing: top-1 {@code top} with max softmax about {@code conf}. */
    static FakeModel confident(int top, double conf) {
        // 3 classes: logit L at top, 0 elsewhere; softmax max = e^L / (e^L + 2)
        float l = (float) Math.log(2 * conf / (1 - conf));
        float[] z = new float[3];
        z[top] = l;
        return new FakeModel(z);
    }

    static Manifest cascadeManifest(double t) {
        return Manifest.parse(ManifestTest.withPolicy(2, ManifestTest.policy("cascade-64:" + t + "-96",
                "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [" + t + "]}")), "tflite");
    }

    @Test
    void theManifestsCascadeIsTheDefaultAndEscalates() throws Exception {
        FakeModel pred = new FakeModel(0.1f, 0.9f);
        FakeModel b96 = confident(1, 0.9), b64 = confident(2, 0.5);
        AtomicLong clock = new AtomicLong();
        DrnetEngine e = new DrnetEngine(cascadeManifest(0.7), pred, Arrays.asList(b96, b64),
                () -> clock.addAndGet(1_000_000));
        assertEquals(Arrays.asList("cascade-64:0.7-96", "drnet", "fixed-96", "fixed-64"), e.policies());
        assertEquals("cascade-64:0.7-96", e.defaultPolicy().name);

        DrnetEngine.Result r = e.classifyDefault(image(90, 80, 2), 3);
        assertEquals("cascade-64:0.7-96", r.policy);
        assertEquals(Arrays.asList(1, 0), r.ranIndices); // 64 first, unsure (0.5 < 0.7), then 96
        assertEquals(Arrays.asList(64, 96), r.ranResolutions);
        assertTrue(r.escalated());
        assertEquals(0, r.resolutionIndex);
        assertEquals(96, r.resolution);
        assertEquals(1, r.top.get(0).index); // the 96 pass answers
        assertEquals(0.5, r.maxSoftmax.get(0), 1e-6);
        assertEquals(0.9, r.maxSoftmax.get(1), 1e-6);
        assertEquals(20, r.macs); // both passes, no predictor
        assertTrue(pred.inputSizes.isEmpty());
        assertFalse(r.usedPredictor());
        assertEquals(2, r.backbonePassMs.size());
        assertEquals(2.0, r.backboneMs);
        assertEquals(2, r.resizeMs.size());
        assertEquals(8.0, r.totalMs); // 9 clock reads: crop 2, 2 x (resize + backbone) 6, end 1

        // a confident small pass answers alone
        DrnetEngine sure = new DrnetEngine(cascadeManifest(0.4), pred, Arrays.asList(b96, b64));
        DrnetEngine.Result s = sure.classifyDefault(image(90, 80, 2), 3);
        assertEquals(Arrays.asList(64), s.ranResolutions);
        assertFalse(s.escalated());
        assertEquals(2, s.top.get(0).index);
        assertEquals(10, s.macs);
    }

    @Test
    void benchRecordsPassesAndEscalationPerPolicy() throws Exception {
        // image i: the 64 px pass is sure for even images only; the predictor always picks 64
        final double[] conf64 = {0.95, 0.5, 0.9, 0.3};
        final int[] current = {0};
        ModelRunner b64 = nchw -> confident(0, conf64[current[0]]).run(nchw);
        Manifest m = cascadeManifest(0.7);
        List<PolicySpec> extra = Arrays.asList(PolicySpec.drnetEscalate(0.8, true));
        DrnetEngine e = new DrnetEngine(m, new FakeModel(0f, 1f), Arrays.asList(confident(1, 0.99), b64),
                System::nanoTime, extra);
        assertEquals(Arrays.asList("cascade-64:0.7-96", "drnet", "fixed-96", "fixed-64", "drnet-escalate:0.8"),
                e.policies());
        final List<RgbImage> imgs = Arrays.asList(image(40, 50, 1), image(70, 33, 2), image(64, 64, 3),
                image(30, 30, 4));
        BenchRecorder rec = new BenchRecorder(m.resolutions);
        rec.setDefaultPolicy(e.defaultPolicy().name);
        for (String p : e.policies()) {
            rec.declare(p, e.policy(p));
            for (int i = 0; i < imgs.size(); i++) {
                current[0] = i;
                rec.add(e.classify(imgs.get(i), p, 1), 1);
            }
        }
        Map<String, Object> doc = Json.parseObject(rec.toJson(new LinkedHashMap<>(), 1, imgs.size(), null));
        assertEquals("cascade-64:0.7-96", doc.get("default_policy"));
        Map<String, Object> policies = Json.obj(doc.get("policies"), "policies");
        Map<String, Object> c = Json.obj(policies.get("cascade-64:0.7-96"), "c");
        // images 1 and 3 escalate (0.5, 0.3 < 0.7)
        assertEquals(0.5, Json.num(c.get("escalation_rate"), "esc"));
        assertEquals(1.5, Json.num(c.get("mean_passes"), "passes"));
        assertEquals(0.5, Json.num(Json.obj(c.get("resolution_share"), "r").get("96"), "r"));
        assertEquals(0.5, Json.num(Json.obj(c.get("resolution_share"), "r").get("64"), "r"));
        assertEquals(0.5, Json.num(Json.obj(c.get("pass_share"), "p").get("96"), "p"));
        assertEquals(1.0, Json.num(Json.obj(c.get("pass_share"), "p").get("64"), "p"));
        assertEquals(15.0, Json.num(c.get("macs"), "macs")); // 10 every image + 10 for half
        assertEquals(0.5, Json.num(c.get("top1"), "top1")); // class 1 only from the 96 pass
        assertEquals(false, c.get("uses_predictor"));
        assertEquals(Arrays.asList(64L, 96L), Json.obj(c.get("spec"), "spec").get("resolutions"));
        Map<String, Object> esc = Json.obj(policies.get("drnet-escalate:0.8"), "esc");
        // the predictor picks 64 (index 1 != 0): escalate below 0.8 -> images 1, 3
        assertEquals(0.5, Json.num(esc.get("escalation_rate"), "esc"));
        assertEquals(25.0, Json.num(esc.get("macs"), "macs")); // predictor 10 + 10 + half of 10
        assertEquals(true, esc.get("uses_predictor"));
        Map<String, Object> f96 = Json.obj(policies.get("fixed-96"), "f96");
        assertEquals(0.0, Json.num(f96.get("escalation_rate"), "esc"));
        assertEquals(1.0, Json.num(Json.obj(f96.get("pass_share"), "p").get("96"), "p"));
        assertEquals(0.0, Json.num(Json.obj(f96.get("pass_share"), "p").get("64"), "p"));
        // every pass is a backbone stage
        Map<String, Object> stages = Json.obj(doc.get("stages_ms"), "stages");
        assertTrue(stages.containsKey("backbone_96") && stages.containsKey("backbone_64"));
    }

    @Test
    void theEngineRefusesMismatchedRunners() {
        Manifest m = small();
        assertThrows(IllegalArgumentException.class,
                () -> new DrnetEngine(m, new FakeModel(1f, 0f), Arrays.asList(new FakeModel(1f))));
        assertThrows(IllegalArgumentException.class,
                () -> new DrnetEngine(m, null, Arrays.asList(new FakeModel(1f), new FakeModel(1f))));
        // without a predictor in the manifest, the default is the largest fixed resolution and drnet is not offered
        Manifest np = Manifest.parse(ManifestTest.withoutPredictor(ManifestTest.SMALL), "tflite");
        DrnetEngine e = new DrnetEngine(np, null, Arrays.asList(new FakeModel(1f, 0f, 0f), new FakeModel(0f, 1f, 0f)));
        assertEquals(Arrays.asList("fixed-96", "fixed-64"), e.policies());
        Json.JsonException x = assertThrows(Json.JsonException.class,
                () -> e.classify(image(20, 20, 1), "drnet-escalate:0.5", 1));
        assertTrue(x.getMessage().contains("needs the resolution predictor"), x.getMessage());
        assertThrows(IllegalStateException.class,
                () -> e.classify(image(20, 20, 1), PolicySpec.drnet(true), 1)); // a spec made elsewhere
    }

    @Test
    void labelsComeFromClassFolders() {
        Manifest m = Golden.manifest();
        assertEquals(0, BenchRunner.labelFromFolder(m, "n01440764"));
        assertEquals(-1, BenchRunner.labelFromFolder(m, "images"));
        assertEquals(-1, BenchRunner.labelFromFolder(m, null));
    }
}
