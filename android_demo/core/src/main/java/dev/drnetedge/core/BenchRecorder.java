package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accumulates bench results per policy and per stage, and writes the "drnet-edge/app-bench" JSON
 * (schema in android_demo/README.md) that {@code drnet-edge bench --device X --app} reads. Per policy it keeps
 * the shared schema of drnet_edge.policy.rows.PolicyRow: where images were answered ({@code resolution_share}),
 * which resolutions ran ({@code pass_share}), {@code escalation_rate}, {@code mean_passes}, and MACs counting
 * every pass.
 */
public final class BenchRecorder {
    public static final String FORMAT = "drnet-edge/app-bench";
    /** 2: adds per policy pass_share, escalation_rate, mean_passes, uses_predictor, spec; top level default_policy. */
    public static final int VERSION = 2;

    private final List<Integer> resolutions;
    private final Map<String, PolicyAcc> policies = new LinkedHashMap<>();
    private final Map<String, List<Double>> stages = new LinkedHashMap<>();
    private String defaultPolicy;

    private static final class PolicyAcc {
        final List<Double> latencies = new ArrayList<>();
        /** Runs answered at each resolution. */
        final Map<Integer, Integer> counts = new LinkedHashMap<>();
        /** Runs that ran each resolution. */
        final Map<Integer, Integer> passCounts = new LinkedHashMap<>();
        int escalated;
        long passes;
        boolean usedPredictor;
        PolicySpec spec;
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

    /** Declare a policy with its spec (written under "spec"). */
    public void declare(String policy, PolicySpec spec) {
        policies.computeIfAbsent(policy, p -> newAcc()).spec = spec;
    }

    /** The default policy's name, written as the top-level "default_policy". */
    public void setDefaultPolicy(String name) {
        this.defaultPolicy = name;
        declare(name);
    }

    private PolicyAcc newAcc() {
        PolicyAcc a = new PolicyAcc();
        for (int r : resolutions) {
            a.counts.put(r, 0);
            a.passCounts.put(r, 0);
        }
        return a;
    }

    /**
     * Record one timed classification. {@code label} is the true class index, or -1 when unknown.
     */
    public void add(DrnetEngine.Result r, int label) {
        PolicyAcc a = policies.computeIfAbsent(r.policy, p -> newAcc());
        if (a.spec == null) {
            a.spec = r.spec;
        }
        a.latencies.add(r.totalMs);
        a.counts.merge(r.resolution, 1, Integer::sum);
        for (int px : r.ranResolutions) {
            a.passCounts.merge(px, 1, Integer::sum);
        }
        a.passes += r.ranResolutions.size();
        if (r.escalated()) {
            a.escalated++;
        }
        a.usedPredictor |= r.usedPredictor();
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
        for (int i = 0; i < r.ranResolutions.size(); i++) {
            stage("backbone_" + r.ranResolutions.get(i), r.backbonePassMs.get(i));
        }
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
        if (defaultPolicy != null) {
            out.put("default_policy", defaultPolicy);
        }
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
            Map<String, Object> passShare = new LinkedHashMap<>();
            for (Map.Entry<Integer, Integer> c : a.passCounts.entrySet()) {
                passShare.put(Integer.toString(c.getKey()), n == 0 ? 0.0 : c.getValue() / (double) n);
            }
            p.put("pass_share", passShare);
            p.put("escalation_rate", n == 0 ? 0.0 : a.escalated / (double) n);
            p.put("mean_passes", n == 0 ? 0.0 : a.passes / (double) n);
            p.put("uses_predictor", a.spec != null ? a.spec.usesPredictor() : a.usedPredictor);
            p.put("spec", a.spec == null ? null : a.spec.toJson());
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
