package dev.drnetedge.core;

import java.util.Arrays;
import java.util.List;

/**
 * Summary of a list of latencies, matching numpy: mean, {@code np.percentile(x, q)} with the default
 * "linear" method, and {@code np.std(x)} (ddof = 0).
 */
public final class LatencyStats {
    public final int n;
    public final double mean;
    public final double p50;
    public final double p90;
    public final double p99;
    public final double std;
    public final double min;
    public final double max;

    private LatencyStats(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no latencies");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        this.n = s.length;
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        this.mean = sum / n;
        double sq = 0;
        for (double v : values) {
            double d = v - mean;
            sq += d * d;
        }
        this.std = Math.sqrt(sq / n);
        this.p50 = percentileSorted(s, 50);
        this.p90 = percentileSorted(s, 90);
        this.p99 = percentileSorted(s, 99);
        this.min = s[0];
        this.max = s[n - 1];
    }

    public static LatencyStats of(double[] values) {
        return new LatencyStats(values);
    }

    public static LatencyStats of(List<Double> values) {
        double[] a = new double[values.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = values.get(i);
        }
        return new LatencyStats(a);
    }

    /** {@code np.percentile(values, q)} (method="linear") of values sorted ascending. */
    public static double percentileSorted(double[] sorted, double q) {
        if (sorted.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        if (!(q >= 0 && q <= 100)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + q);
        }
        double virtual = (sorted.length - 1) * (q / 100.0);
        int lo = (int) Math.floor(virtual);
        int hi = Math.min(lo + 1, sorted.length - 1);
        double t = virtual - lo;
        double a = sorted[lo], b = sorted[hi];
        // numpy's _lerp: a + (b - a) * t, computed from the upper end when t >= 0.5
        double diff = b - a;
        return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
    }
}
