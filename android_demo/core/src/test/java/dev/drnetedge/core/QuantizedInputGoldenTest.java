package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The pixel -&gt; quantised input table (int8 / uint8 models) against Python's drnet_edge.data.preprocess.input_lut:
 * the tables and each golden crop's integer NCHW tensor must match byte for byte ("quantized_inputs" in
 * golden.json, for the input specs of both int8 TFLite routes, a uint8 one and a saturating one).
 */
class QuantizedInputGoldenTest {
    static List<Object> cases() {
        return Json.arr(Json.obj(Golden.json().get("quantized_inputs"), "quantized_inputs").get("cases"), "cases");
    }

    static TensorSpec spec(Map<String, Object> c) {
        Map<String, Object> s = Json.obj(c.get("spec"), "spec");
        return new TensorSpec(Arrays.asList(1, 3, 1, 1), Json.str(s.get("dtype"), "dtype"),
                Json.num(s.get("scale"), "scale"), (int) Json.integer(s.get("zero_point"), "zero_point"));
    }

    @Test
    void tablesMatchPython() {
        Preprocessor pre = new Preprocessor(Golden.manifest().preprocess);
        assertFalse(cases().isEmpty());
        for (Object o : cases()) {
            Map<String, Object> c = Json.obj(o, "case");
            byte[] got = pre.inputTable(spec(c));
            List<Object> rows = Json.arr(c.get("table"), "table");
            for (int ch = 0; ch < 3; ch++) {
                List<Object> row = Json.arr(rows.get(ch), "row");
                for (int v = 0; v < 256; v++) {
                    assertEquals((byte) Json.integer(row.get(v), "entry"), got[ch * 256 + v],
                            c.get("spec") + " channel " + ch + " value " + v);
                }
            }
        }
    }

    @Test
    void goldenCropsGiveThePythonTensors() {
        Preprocessor pre = new Preprocessor(Golden.manifest().preprocess);
        for (Object o : cases()) {
            Map<String, Object> c = Json.obj(o, "case");
            byte[] table = pre.inputTable(spec(c));
            Map<String, Object> hashes = Json.obj(c.get("tensor_sha256"), "tensor_sha256");
            int checked = 0;
            for (Object io : Golden.images()) {
                Map<String, Object> img = Json.obj(io, "image");
                for (Map.Entry<String, Object> e : Json.obj(img.get("sizes"), "sizes").entrySet()) {
                    RgbImage crop = Golden.png(Json.str(Json.obj(e.getValue(), "size").get("png"), "png"));
                    String key = img.get("name") + "_" + e.getKey();
                    assertEquals(hashes.get(key), Golden.sha256(pre.toQuantizedNchw(crop, table)), key);
                    checked++;
                }
            }
            assertEquals(hashes.size(), checked);
        }
    }

    @Test
    void tableIsQuantizeOfTheFloatTensor() {
        Preprocessor pre = new Preprocessor(Golden.manifest().preprocess);
        RgbImage img = EngineAndBenchTest.image(37, 29, 3);
        for (Object o : cases()) {
            TensorSpec s = spec(Json.obj(o, "case"));
            assertArrayEquals(s.quantize(pre.toNchw(img)), pre.toQuantizedNchw(img, pre.inputTable(s)));
        }
        TensorSpec f = new TensorSpec(Arrays.asList(1, 3, 1, 1), "float32", null, null);
        assertThrows(IllegalArgumentException.class, () -> pre.inputTable(f));
    }
}
