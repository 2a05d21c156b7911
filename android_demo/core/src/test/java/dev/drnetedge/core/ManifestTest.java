package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestTest {
    @Test
    void parsesTheGoldenManifest() {
        Manifest m = Golden.manifest();
        Map<String, Object> g = Golden.json();
        List<Integer> expected = Arrays.asList(224, 192, 160, 128);
        assertEquals(expected, m.resolutions);
        assertEquals(64, m.predictorInput);
        assertEquals(224, m.largestResolution());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, m.preprocess.mean);
        assertEquals(0.875, m.preprocess.cropPct);
        assertEquals("cubic", m.preprocess.interpolation);
        assertEquals(1000, m.classIds.size());
        assertEquals("n01440764", m.classIds.get(0));
        assertEquals("tench", m.classNames.get(0));
        assertEquals(0, m.classIndex("n01440764"));
        assertEquals(-1, m.classIndex("not-a-class"));
        assertEquals("tflite", m.target);
        assertEquals("fp32", m.precision);
        assertTrue(m.hasPredictor());
        ModelInfo p = m.predictor();
        assertEquals("tflite/predictor.tflite", p.file);
        assertNull(p.entry);
        assertEquals(Arrays.asList(1, 3, 64, 64), p.input.shape);
        assertFalse(p.output.isQuantized());
        ModelInfo b = m.backbone(192);
        assertEquals("tflite/backbone.tflite", b.file);
        assertEquals("backbone_192", b.entry);
        assertEquals(Integer.valueOf(1), b.resolutionIndex);
        assertTrue(b.macs > 0);
        assertEquals(Arrays.asList("tflite/predictor.tflite", "tflite/backbone.tflite"), m.files());
        // the sha256s recorded in golden.json are the manifest's
        Map<String, Object> files = Json.obj(Json.obj(g.get("artifacts"), "artifacts").get("files"), "files");
        assertEquals(files.get("backbone_224"), m.backbone(224).sha256);
    }

    @Test
    void otherTargetsAreReadable() {
        Manifest onnx = Manifest.parse(Golden.text("manifest.json"), "onnx");
        assertEquals("onnx/backbone_160.onnx", onnx.backbone(160).file);
        assertEquals(5, onnx.files().size());
        Json.JsonException e = assertThrows(Json.JsonException.class,
                () -> Manifest.parse(Golden.text("manifest.json"), "coreml"));
        assertTrue(e.getMessage().contains("tflite"), e.getMessage());
    }

    static String int8Manifest(String outputQuant) {
        String spec = "{\"shape\": [1, 3, %d, %d], \"dtype\": \"int8\", \"scale\": 0.0078, \"zero_point\": 0}";
        String model = "{\"file\": \"tflite/%s.tflite\", \"sha256\": \"00\", \"precision\": \"int8\", \"input\": "
                + spec + ", \"output\": {\"shape\": [1, %d], \"dtype\": \"int8\", " + outputQuant + "}, "
                + "\"entry\": null, \"macs\": 10, \"input_size\": %d, \"resolution_index\": %s}";
        return "{\"format\": \"drnet-edge/artifacts\", \"version\": 1, \"resolutions\": [96, 64], "
                + "\"predictor_input\": 32, \"preprocess\": {\"mean\": [0.5, 0.5, 0.5], \"std\": [0.5, 0.5, 0.5], "
                + "\"crop_pct\": 1.0, \"interpolation\": \"cubic\", \"layout\": \"NCHW\"}, "
                + "\"classes\": {\"ids\": [\"a\", \"b\", \"c\"], \"names\": [\"A\", \"B\", \"C\"]}, "
                + "\"targets\": {\"tflite\": {\"precision\": \"int8\", \"models\": {"
                + "\"predictor\": " + String.format(model, "predictor", 32, 32, 2, 32, "null") + ", "
                + "\"backbone_96\": " + String.format(model, "backbone_96", 96, 96, 3, 96, "0") + ", "
                + "\"backbone_64\": " + String.format(model, "backbone_64", 64, 64, 3, 64, "1") + "}}}}";
    }

    @Test
    void parsesInt8Quantisation() {
        Manifest m = Manifest.parse(int8Manifest("\"scale\": 0.11, \"zero_point\": -34"), "tflite");
        assertEquals("int8", m.precision);
        TensorSpec out = m.predictor().output;
        assertTrue(out.isQuantized());
        assertEquals(0.11, out.scale);
        assertEquals(Integer.valueOf(-34), out.zeroPoint);
        assertTrue(m.predictor().input.isQuantized());
        assertEquals(96, m.largestResolution());
    }

    @Test
    void rejectsInconsistentManifests() {
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(int8Manifest("\"scale\": 0.11, \"zero_point\": null"), "tflite"));
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(int8Manifest("\"scale\": -1, \"zero_point\": 0"), "tflite"));
        String ok = int8Manifest("\"scale\": 0.11, \"zero_point\": 0");
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(ok.replace("drnet-edge/artifacts", "something-else"), "tflite"));
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(ok.replace("\"version\": 1", "\"version\": 2"), "tflite"));
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(ok.replace("\"resolutions\": [96, 64]", "\"resolutions\": [96, 48]"), "tflite"));
        assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(ok.replace("\"cubic\"", "\"lanczos9\""), "tflite"));
    }
}
