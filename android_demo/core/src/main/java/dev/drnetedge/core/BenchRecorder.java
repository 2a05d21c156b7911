package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accumulates bench results per policy and per stage, and writes the "drnet-edge/app-bench" JSON
 * (schema in android_demo/README.md) that {@code drnet-edge bench --device X --app} reads.
 */
public final class BenchRecorder {
    public static final String FORMAT = "drnet-edge/app-bench";
    public static final int VERSION = 1;

    private final List<Integer> resolutions;
    private final Map<String, PolicyAcc> policies = new LinkedHashMap<>();
    private final Map<String, List<Double>> stages = new LinkedHashMap<>();

    private static final class PolicyAcc {
        final List<Double> latencies = new ArrayList<>();
        final Map<Integer, Integer> counts = new LinkedHashMap<>();
        int labelled;
        int correct;
        double macsSum;
    }

    public BenchRecorder(List<Integer> resolutions) {
        this.resolutions = new ArrayList<>(resolutions);
    }

    /** Declare a policy up front so it appears (in this order) even before its first result. */
    public void declare(String policy) {
        policies.computeIfAbsent(policy, p -> newAcc());
    }

    private PolicyAcc newAcc() {
        PolicyAcc a = new PolicyAcc();
        for (int r : resolutions) {
            a.counts.put(r, 0);
        }
        return a;
    }

    /**
     * Record one timed classification. {@code label} is the true class index, or -1 when unknown.
     */
    public void add(DrnetEngine.Result r, int label) {
        PolicyAcc a = policies.computeIfAbsent(r.policy, p -> newAcc());
        a.latencies.add(r.totalMs);
        a.counts.merge(r.resolution, 1, Integer::sum);
        a.macsSum += r.macs;
        if (label >= 0) {
            a.labelled++;
            if (!r.top.isEmpty() && r.top.get(0).index == label) {
                a.correct++;
            }
        }
        stage("crop", r.cropMs);
        for (double ms : r.resizeMs) {
            stage("resize", ms);
        }
        if (!Double.isNaN(r.predictorMs)) {
            stage("predictor", r.predictorMs);
        }
        stage("backbone_" + r.resolution, r.backboneMs);
    }

    public void stage(String name, double ms) {
        stages.computeIfAbsent(name, k -> new ArrayList<>()).add(ms);
    }

    /** Number of timed runs recorded for a policy. */
    public int count(String policy) {
        PolicyAcc a = policies.get(policy);
        return a == null ? 0 : a.latencies.size();
    }

    /** The JSON document as maps and lists. */
    public Map<String, Object> toMap(Map<String, Object> device, int threads, int nImages, Map<String, Object> extra) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("format", FORMAT);
        out.put("version", VERSION);
        out.put("device", device);
        out.put("threads", threads);
        out.put("n_images", nImages);
        if (extra != null) {
            out.putAll(extra);
        }
        Map<String, Object> ps = new LinkedHashMap<>();
        for (Map.Entry<String, PolicyAcc> e : policies.entrySet()) {
            PolicyAcc a = e.getValue();
            Map<String, Object> p = new LinkedHashMap<>();
            int n = a.latencies.size();
            if (n > 0) {
                LatencyStats s = LatencyStats.of(a.latencies);
                p.put("latency_ms", s.mean);
                p.put("latency_p50_ms", s.p50);
                p.put("latency_p90_ms", s.p90);
                p.put("latency_p99_ms", s.p99);
                p.put("latency_std_ms", s.std);
            } else {
                p.put("latency_ms", null);
                p.put("latency_p50_ms", null);
                p.put("latency_p90_ms", null);
                p.put("latency_p99_ms", null);
                p.put("latency_std_ms", null);
            }
            p.put("n", n);
            Map<String, Object> share = new LinkedHashMap<>();
            for (Map.Entry<Integer, Integer> c : a.counts.entrySet()) {
                share.put(Integer.toString(c.getKey()), n == 0 ? 0.0 : c.getValue() / (double) n);
            }
            p.put("resolution_share", share);
            p.put("top1", a.labelled == 0 ? null : (Object) (a.correct / (double) a.labelled));
            p.put("n_labelled", a.labelled);
            p.put("macs", n == 0 ? null : (Object) (a.macsSum / n));
            ps.put(e.getKey(), p);
        }
        out.put("policies", ps);
        Map<String, Object> st = new LinkedHashMap<>();
        for (String name : stageOrder()) {
            List<Double> v = stages.get(name);
            st.put(name, LatencyStats.of(v).mean);
        }
        out.put("stages_ms", st);
        return out;
    }

    private List<String> stageOrder() {
        List<String> order = new ArrayList<>();
        for (String s : new String[] {"predictor", "crop", "resize"}) {
            if (stages.containsKey(s)) {
                order.add(s);
            }
        }
        for (int r : resolutions) {
            if (stages.containsKey("backbone_" + r)) {
                order.add("backbone_" + r);
            }
        }
        for (String s : stages.keySet()) {
            if (!order.contains(s)) {
                order.add(s);
            }
        }
        return order;
    }

    public String toJson(Map<String, Object> device, int threads, int nImages, Map<String, Object> extra) {
        return Json.write(toMap(device, threads, nImages, extra));
    }
}
