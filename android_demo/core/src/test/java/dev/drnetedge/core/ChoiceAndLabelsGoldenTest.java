package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Resolution choice from the TFLite predictor's logits and top-5 decoding of the TFLite backbones' logits. */
class ChoiceAndLabelsGoldenTest {
    static float[] floats(Object list) {
        List<Object> l = Json.arr(list, "floats");
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Json.num(l.get(i), "float");
        }
        return out;
    }

    @Test
    void choiceFromPredictorLogits() {
        Manifest m = Golden.manifest();
        for (Object o : Golden.images()) {
            Map<String, Object> p = Json.obj(Json.obj(o, "image").get("predictor"), "predictor");
            float[] logits = floats(p.get("logits"));
            int k = ResolutionChooser.chooseIndex(logits, m.resolutions.size());
            assertEquals(Json.integer(p.get("choice"), "choice"), k);
            assertEquals(Json.integer(p.get("resolution"), "resolution"), m.resolutions.get(k).intValue());
        }
    }

    @Test
    void choiceFromInt8PredictorOutputIsDequantised() {
        // an int8 output whose raw bytes rank differently only if the zero point / sign were mishandled
        TensorSpec spec = new TensorSpec(Arrays.asList(1, 4), "int8", 0.1101149320602417, -34);
        byte[] raw = {(byte) -128, 5, 127, (byte) -35};
        float[] deq = spec.dequantize(raw);
        assertEquals((-128 + 34) * 0.1101149320602417f, deq[0], 0f);
        assertEquals(2, ResolutionChooser.chooseIndex(raw, spec, 4));
        TensorSpec u8 = new TensorSpec(Arrays.asList(1, 4), "uint8", 0.5, 128);
        assertEquals(0, ResolutionChooser.chooseIndex(new byte[] {(byte) 200, 5, 127, (byte) 129}, u8, 4));
        // quantise the golden predictor logits the way an int8 predictor would emit them: same choice
        TensorSpec q = new TensorSpec(Arrays.asList(1, 4), "int8", 0.05, -10);
        for (Object o : Golden.images()) {
            Map<String, Object> p = Json.obj(Json.obj(o, "image").get("predictor"), "predictor");
            assertEquals(Json.integer(p.get("choice"), "choice"),
                    ResolutionChooser.chooseIndex(q.quantize(floats(p.get("logits"))), q, 4));
        }
    }

    @Test
    void quantiseRoundsHalvesAwayFromZeroBeforeTheZeroPointAndSaturates() {
        TensorSpec s = new TensorSpec(Arrays.asList(1, 4), "int8", 0.5, -3);
        assertArrayEquals(new byte[] {-4, -1, 127, -128}, s.quantize(new float[] {-0.25f, 0.75f, 1000f, -1000f}));
        // round(-0.25 / 0.5) - 3 = round(-0.5) - 3 = -4; round(0.75 / 0.5) - 3 = round(1.5) - 3 = -1 (TFLite's rule)
    }

    @Test
    void top5FromBackboneLogits() {
        Manifest m = Golden.manifest();
        for (Object o : Golden.images()) {
            Map<String, Object> img = Json.obj(o, "image");
            for (Map.Entry<String, Object> e : Json.obj(img.get("backbones"), "backbones").entrySet()) {
                Map<String, Object> b = Json.obj(e.getValue(), "backbone");
                float[] logits = Golden.f32(Json.str(b.get("logits"), "logits"));
                assertEquals(m.classIds.size(), logits.length);
                List<Prediction> top = Prediction.decode(logits, 5, m.classNames);
                List<Object> expected = Json.arr(b.get("top5"), "top5");
                assertEquals(5, top.size());
                for (int i = 0; i < 5; i++) {
                    List<Object> pair = Json.arr(expected.get(i), "pair");
                    assertEquals(Json.integer(pair.get(0), "index"), top.get(i).index, img.get("name") + "@" + e.getKey());
                    assertEquals((float) Json.num(pair.get(1), "logit"), top.get(i).score, 0f);
                    assertEquals(m.classNames.get(top.get(i).index), top.get(i).label);
                }
            }
            // chosen_top5 is the top-5 of the resolution the predictor chose
            String chosen = Long.toString(Json.integer(Json.obj(img.get("predictor"), "p").get("resolution"), "r"));
            assertEquals(Json.obj(Json.obj(img.get("backbones"), "b").get(chosen), "c").get("top5"), img.get("chosen_top5"));
        }
    }

    @Test
    void topKTiesGoToTheLowerIndexAndNaNNeverRanks() {
        float[] x = {1f, 3f, Float.NaN, 3f, 2f, 3f};
        assertArrayEquals(new int[] {1, 3, 5, 4}, Prediction.topK(x, 4));
        assertArrayEquals(new int[] {1, 3, 5, 4, 0}, Prediction.topK(x, 10));
        assertEquals(1, ResolutionChooser.argmax(x));
    }
}
