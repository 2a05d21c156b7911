package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The delegate option's plumbing and the refusal/fallback report (the GPU delegate itself cannot load on the JVM). */
class DelegateTest {
    @Test
    void parsesTheBenchFlagValues() {
        assertEquals(Delegate.CPU, Delegate.parse(null));
        assertEquals(Delegate.CPU, Delegate.parse(""));
        assertEquals(Delegate.GPU, Delegate.parse("gpu"));
        assertEquals(Delegate.NNAPI, Delegate.parse(" NNAPI "));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Delegate.parse("tpu"));
        assertTrue(e.getMessage().contains("use cpu, gpu or nnapi"));
    }

    @Test
    void aRefusingDelegateFallsBackToTheCpuAndSaysWhy() throws Exception {
        List<Delegate> tried = new ArrayList<>();
        Delegate.Loaded<String> got = Delegate.load(Delegate.GPU, d -> {
            tried.add(d);
            if (d == Delegate.GPU) {
                throw new IllegalArgumentException("Internal error: Failed to apply delegate: QUANTIZE: OP is supported,"
                        + " but tensor type isn't matched!");
            }
            return "interpreter-" + d.key();
        });
        assertEquals(Arrays.asList(Delegate.GPU, Delegate.CPU), tried);
        assertEquals("interpreter-cpu", got.value);
        assertTrue(got.fellBack());
        assertEquals("refused", got.toJson().get("status"));
        assertTrue(got.reason.contains("tensor type isn't matched"));
    }

    @Test
    void anAppliedDelegateAndTheSummary() throws Exception {
        Map<String, Delegate.Loaded<String>> perModel = new LinkedHashMap<>();
        perModel.put("predictor.tflite", Delegate.load(Delegate.NNAPI, d -> "ok"));
        perModel.put("backbone_224.tflite", Delegate.load(Delegate.NNAPI, d -> {
            if (d == Delegate.NNAPI) {
                throw new IllegalStateException();
            }
            return "cpu";
        }));
        Map<String, Object> s = Delegate.summary(Delegate.NNAPI, perModel);
        assertEquals("nnapi", s.get("asked"));
        assertEquals(Arrays.asList("backbone_224.tflite"), s.get("fell_back"));
        assertEquals(Delegate.NNAPI_NOTE, s.get("note"));
        @SuppressWarnings("unchecked")
        Map<String, Object> pred = (Map<String, Object>) ((Map<String, Object>) s.get("models")).get("predictor.tflite");
        assertEquals("applied", pred.get("status"));
        assertNull(pred.get("reason"));
        assertTrue(Json.write(s).contains("\"fell_back\"")); // the core writes it as JSON
    }

    @Test
    void aCpuFailureIsNotHidden() {
        assertThrows(IllegalStateException.class, () -> Delegate.load(Delegate.CPU, d -> {
            throw new IllegalStateException("corrupt model");
        }));
    }

    @Test
    void startupRecord() {
        Map<String, Object> s = Delegate.startup(Arrays.asList("predictor.tflite", "backbone_224.tflite"), 812.5, 51200, 92160);
        assertEquals(812.5, s.get("load_all_ms"));
        assertEquals(40.0, (Double) s.get("pss_delta_mb"), 1e-9);
        assertEquals(90.0, (Double) s.get("pss_after_mb"), 1e-9);
    }
}
