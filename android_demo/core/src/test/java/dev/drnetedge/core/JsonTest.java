package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void parsesAllValueKinds() {
        Map<String, Object> m = Json.parseObject(
                " {\"a\": [1, -2.5e3, 0.1, true, false, null], \"s\": \"x\\\"\\\\\\/\\n\\u00e9\\ud83d\\ude00\", \"o\": {}}\n");
        List<Object> a = Json.arr(m.get("a"), "a");
        assertEquals(1L, a.get(0));
        assertEquals(-2500.0, a.get(1));
        assertEquals(0.1, a.get(2));
        assertEquals(Boolean.TRUE, a.get(3));
        assertNull(a.get(5));
        assertEquals("x\"\\/\n\u00e9\ud83d\ude00", m.get("s"));
        assertTrue(Json.obj(m.get("o"), "o").isEmpty());
        assertEquals(12345678901234L, Json.parse("12345678901234"));
        assertEquals(1e30, Json.parse("1000000000000000000000000000000"));
    }

    @Test
    void rejectsMalformedInput() {
        for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "\"\\x\"", "tru", "[1] 2",
                "{\"a\":1,\"a\":2}", "\"a\nb\"", "NaN"}) {
            assertThrows(Json.JsonException.class, () -> Json.parse(bad), bad);
        }
    }

    @Test
    void writesAndReadsBack() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("format", "drnet-edge/app-bench");
        m.put("n", 3);
        m.put("x", 0.1 + 0.2);
        m.put("tiny", 1e-7);
        m.put("nan", Double.NaN);
        m.put("none", null);
        m.put("list", Arrays.asList(1, "two\t\u0001", false));
        m.put("empty", new LinkedHashMap<>());
        String text = Json.write(m);
        Map<String, Object> back = Json.parseObject(text);
        assertEquals("drnet-edge/app-bench", back.get("format"));
        assertEquals(3L, back.get("n"));
        assertEquals(0.1 + 0.2, back.get("x"));
        assertEquals(1e-7, back.get("tiny"));
        assertNull(back.get("nan"));
        assertTrue(back.containsKey("none"));
        assertEquals(Arrays.asList(1L, "two\t\u0001", false), back.get("list"));
    }

    @Test
    void typedAccessorsExplainMistakes() {
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> Json.str(3L, "device.model"));
        assertTrue(e.getMessage().contains("device.model"));
        assertEquals(224, Json.integer(224.0, "r"));
        assertThrows(Json.JsonException.class, () -> Json.integer(1.5, "r"));
    }
}
