package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** mean / p50 / p90 / p99 / std against numpy (np.percentile linear, np.std ddof=0), 1e-9 relative. */
class LatencyStatsTest {
    static void close(double expected, double got, String what) {
        double tol = 1e-9 * Math.max(1e-300, Math.abs(expected));
        assertEquals(expected, got, tol, what);
    }

    @Test
    void matchesNumpy() {
        List<Object> cases = Json.arr(Golden.json().get("latency_cases"), "latency_cases");
        assertEquals(5, cases.size());
        for (Object o : cases) {
            Map<String, Object> c = Json.obj(o, "case");
            List<Object> v = Json.arr(c.get("values"), "values");
            double[] x = new double[v.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = Json.num(v.get(i), "value");
            }
            LatencyStats s = LatencyStats.of(x);
            assertEquals(x.length, s.n);
            close(Json.num(c.get("mean"), "mean"), s.mean, "mean");
            close(Json.num(c.get("p50"), "p50"), s.p50, "p50");
            close(Json.num(c.get("p90"), "p90"), s.p90, "p90");
            close(Json.num(c.get("p99"), "p99"), s.p99, "p99");
            if (Json.num(c.get("std"), "std") == 0) {
                assertEquals(0.0, s.std);
            } else {
                close(Json.num(c.get("std"), "std"), s.std, "std");
            }
        }
    }

    @Test
    void rejectsEmpty() {
        assertThrows(IllegalArgumentException.class, () -> LatencyStats.of(new double[0]));
    }
}
