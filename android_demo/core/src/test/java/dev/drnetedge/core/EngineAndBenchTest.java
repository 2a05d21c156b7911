package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
        Map<Integer, ModelRunner> bb = new HashMap<>();
        bb.put(96, b96);
        bb.put(64, b64);
        AtomicLong clock = new AtomicLong();
        DrnetEngine e = new DrnetEngine(m, pred, bb, () -> clock.addAndGet(1_000_000));
        assertEquals(Arrays.asList("drnet", "fixed-96", "fixed-64"), e.policies());

        DrnetEngine.Result r = e.classify(image(150, 120, 1), "drnet", 2);
        assertEquals(64, r.resolution);
        assertEquals(1, r.resolutionIndex);
        assertEquals(Arrays.asList(32), pred.inputSizes);
        assertEquals(Arrays.asList(64), b64.inputSizes);
        assertTrue(b96.inputSizes.isEmpty());
        assertEquals(0, r.top.get(0).index);
        assertEquals("A", r.top.get(0).label);
        assertEquals("C", r.top.get(1).label);
        assertEquals(2, r.resizeMs.size());
        assertEquals(1.0, r.predictorMs);
        assertEquals(1.0, r.backboneMs);
        assertEquals(7.0, r.totalMs); // 8 clock reads, 1 ms apart
        assertEquals(20, r.macs); // predictor + backbone

        DrnetEngine.Result f = e.classify(image(150, 120, 1), "fixed-96", 5);
        assertEquals(96, f.resolution);
        assertNull(f.predictorLogits);
        assertTrue(Double.isNaN(f.predictorMs));
        assertEquals(3, f.top.size());
        assertEquals("B", f.top.get(0).label);
        assertEquals(10, f.macs);
    }

    @Test
    void benchWritesTheDocumentedSchema() throws Exception {
        Manifest m = small();
        Map<Integer, ModelRunner> bb = new HashMap<>();
        bb.put(96, new FakeModel(0f, 5f, 1f)); // says "b"
        bb.put(64, new FakeModel(3f, 1f, 2f)); // says "a"
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
        assertEquals(1L, doc.get("version"));
        assertEquals("JVM", Json.obj(doc.get("device"), "device").get("model"));
        assertEquals(4L, doc.get("threads"));
        assertEquals(3L, doc.get("n_images"));
        Map<String, Object> policies = Json.obj(doc.get("policies"), "policies");
        assertEquals(Arrays.asList("drnet", "fixed-96", "fixed-64"), new ArrayList<>(policies.keySet()));
        for (Map.Entry<String, Object> p : policies.entrySet()) {
            Map<String, Object> v = Json.obj(p.getValue(), p.getKey());
            for (String k : new String[] {"latency_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
                    "latency_std_ms", "n", "resolution_share", "top1"}) {
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
        assertEquals(7.0, Json.num(drnet.get("latency_ms"), "ms"));
        assertEquals(0.0, Json.num(drnet.get("latency_std_ms"), "std"));
        Map<String, Object> f64 = Json.obj(policies.get("fixed-64"), "f64");
        assertEquals(0.5, Json.num(f64.get("top1"), "top1")); // says "a": right for image 1 only
        assertEquals(4.0, Json.num(f64.get("latency_ms"), "ms")); // 5 clock reads
        Map<String, Object> stages = Json.obj(doc.get("stages_ms"), "stages");
        assertEquals(Arrays.asList("predictor", "crop", "resize", "backbone_96", "backbone_64"),
                new ArrayList<>(stages.keySet()));
        assertEquals(1.0, Json.num(stages.get("predictor"), "p"));
        assertEquals(2L, doc.get("runs"));
        assertTrue(log.get(log.size() - 1).startsWith("3/3"));
    }

    @Test
    void labelsComeFromClassFolders() {
        Manifest m = Golden.manifest();
        assertEquals(0, BenchRunner.labelFromFolder(m, "n01440764"));
        assertEquals(-1, BenchRunner.labelFromFolder(m, "images"));
        assertEquals(-1, BenchRunner.labelFromFolder(m, null));
    }
}
