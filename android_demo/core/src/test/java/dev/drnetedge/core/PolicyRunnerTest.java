package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rule of each policy kind (drnet_edge.policy.spec.run_spec) on made-up confidences and margins. */
class PolicyRunnerTest {
    static final List<Integer> RES = Arrays.asList(224, 192, 160, 128);

    /** 4 classes: class {@code top} gets the logit that makes its softmax {@code conf} (others 0; conf above 1/4). */
    static float[] logitsWith(int top, double conf) {
        float[] z = new float[4];
        z[top] = (float) Math.log(3 * conf / (1 - conf));
        return z;
    }

    /** Backbone at index k: top-1 = k, max softmax conf[k]; records the calls. */
    static final class Fake implements PolicyRunner.Backbone {
        final double[] conf;
        final List<Integer> calls = new ArrayList<>();

        Fake(double... conf) {
            this.conf = conf;
        }

        @Override
        public float[] run(int k) {
            calls.add(k);
            return logitsWith(k, conf[k]);
        }
    }

    static PolicySpec cascade(String name) {
        return PolicySpec.parseName(name, RES, true);
    }

    @Test
    void fixedRunsOnePass() throws Exception {
        Fake b = new Fake(0.9, 0.9, 0.9, 0.4);
        PolicyRunner.Outcome o = PolicyRunner.run(PolicySpec.fixed(3, RES), b, null);
        assertEquals(Arrays.asList(3), o.ran);
        assertEquals(3, o.answeredIndex);
        assertEquals(3, o.top1);
        assertEquals(-1, o.predictorChoice);
        assertFalse(o.escalated());
        assertEquals(0.4, o.maxSoftmax.get(0), 1e-6);
    }

    @Test
    void cascadeStopsAtTheFirstConfidentStage() throws Exception {
        PolicySpec c = cascade("cascade-128:0.8-160:0.7-224");
        Fake sure = new Fake(0.5, 0.5, 0.5, 0.85);
        PolicyRunner.Outcome o = PolicyRunner.run(c, sure, null);
        assertEquals(Arrays.asList(3), o.ran);
        assertEquals(3, o.top1);
        Fake middle = new Fake(0.5, 0.5, 0.75, 0.6);
        o = PolicyRunner.run(c, middle, null);
        assertEquals(Arrays.asList(3, 2), o.ran);
        assertEquals(2, o.answeredIndex);
        assertTrue(o.escalated());
        Fake unsure = new Fake(0.3, 0.99, 0.6, 0.6);
        o = PolicyRunner.run(c, unsure, null);
        assertEquals(Arrays.asList(3, 2, 0), o.ran); // 192 is not in the chain; the last stage answers however unsure
        assertEquals(Arrays.asList(3, 2, 0), unsure.calls);
        assertEquals(0, o.answeredIndex);
        assertEquals(0, o.top1);
        assertEquals(3, o.maxSoftmax.size());
    }

    @Test
    void aCascadeMayEndBelowTheLargestResolution() throws Exception {
        // calibrate's chains may stop at 192: the largest resolution never runs
        Fake unsure = new Fake(0.99, 0.3, 0.3, 0.3);
        PolicyRunner.Outcome o = PolicyRunner.run(cascade("cascade-128:0.7-192"), unsure, null);
        assertEquals(Arrays.asList(3, 1), o.ran);
        assertEquals(Arrays.asList(3, 1), unsure.calls);
        assertEquals(1, o.answeredIndex);
        assertEquals(1, o.top1);
        assertTrue(o.escalated());
    }

    @Test
    void cascadeAcceptsAtExactlyTheThreshold() throws Exception {
        // logits whose max softmax is exactly 0.5 in double arithmetic: [0, 0]
        PolicyRunner.Backbone tie = k -> new float[] {0f, 0f};
        assertEquals(0.5, PolicyRunner.maxSoftmax(new float[] {0f, 0f}));
        PolicyRunner.Outcome o = PolicyRunner.run(cascade("cascade-160:0.5-224"), tie, null);
        assertEquals(Arrays.asList(2), o.ran); // >= accepts
        assertEquals(0, o.top1); // ties go to the lower class index, as np.argmax
    }

    @Test
    void drnetRunsThePredictorsChoice() throws Exception {
        Fake b = new Fake(0.9, 0.1, 0.1, 0.1);
        PolicyRunner.Outcome o = PolicyRunner.run(PolicySpec.drnet(true), b, () -> 2);
        assertEquals(Arrays.asList(2), o.ran);
        assertEquals(2, o.answeredIndex);
        assertEquals(2, o.predictorChoice);
        assertFalse(o.escalated());
        assertThrows(IllegalStateException.class, () -> PolicyRunner.run(PolicySpec.drnet(true), b, null));
    }

    @Test
    void drnetEscalateRerunsTheLargestWhenUnsure() throws Exception {
        PolicySpec e = PolicySpec.drnetEscalate(0.7, true);
        Fake b = new Fake(0.9, 0.65, 0.75, 0.1);
        PolicyRunner.Outcome unsure = PolicyRunner.run(e, b, () -> 1);
        assertEquals(Arrays.asList(1, 0), unsure.ran);
        assertEquals(0, unsure.answeredIndex);
        assertEquals(0, unsure.top1);
        assertEquals(1, unsure.predictorChoice);
        assertTrue(unsure.escalated());
        PolicyRunner.Outcome sure = PolicyRunner.run(e, b, () -> 2);
        assertEquals(Arrays.asList(2), sure.ran);
        // the largest chosen: never rerun, however unsure
        Fake low = new Fake(0.1, 0.1, 0.1, 0.1);
        PolicyRunner.Outcome largest = PolicyRunner.run(e, low, () -> 0);
        assertEquals(Arrays.asList(0), largest.ran);
        assertEquals(Arrays.asList(0), low.calls);
    }

    @Test
    void maxSoftmaxIsStableAndNaNEscalates() throws Exception {
        assertEquals(1.0, PolicyRunner.maxSoftmax(new float[] {1000f, -1000f}));
        assertEquals(0.25, PolicyRunner.maxSoftmax(new float[] {3e38f, 3e38f, 3e38f, 3e38f}), 1e-15);
        assertTrue(Double.isNaN(PolicyRunner.maxSoftmax(new float[] {1f, Float.NaN})));
        PolicyRunner.Backbone nanAtSmall = k -> k == 2 ? new float[] {Float.NaN, 1f} : new float[] {0f, 5f};
        PolicyRunner.Outcome o = PolicyRunner.run(cascade("cascade-160:0.5-224"), nanAtSmall, null);
        assertEquals(Arrays.asList(2, 0), o.ran);
        assertEquals(1, o.top1);
    }

    // ------------------------------------------------------------------ the margin signal

    @Test
    void marginIsTopOneMinusTopTwoSoftmax() {
        // p = [0.5, 0.3, 0.2]: margin 0.2 (computed as p1 - p2 in double, like numpy)
        float[] z = {(float) Math.log(0.5), (float) Math.log(0.3), (float) Math.log(0.2)};
        double max = z[0], sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        assertEquals(1.0 / sum - Math.exp(z[1] - max) / sum, PolicyRunner.margin(z));
        assertEquals(0.2, PolicyRunner.margin(z), 1e-7);
        // the order of the classes does not matter; ties give 0; one class gives its probability, 1
        assertEquals(PolicyRunner.margin(z), PolicyRunner.margin(new float[] {z[2], z[0], z[1]}));
        assertEquals(0.0, PolicyRunner.margin(new float[] {3f, 3f, -1f}));
        assertEquals(1.0, PolicyRunner.margin(new float[] {-7f}));
        assertEquals(1.0, PolicyRunner.margin(new float[] {1000f, -1000f}));
        assertTrue(Double.isNaN(PolicyRunner.margin(new float[] {1f, Float.NaN})));
        assertTrue(Double.isNaN(PolicyRunner.margin(new float[] {Float.POSITIVE_INFINITY, 1f})));
        assertTrue(Double.isNaN(PolicyRunner.margin(new float[0])));
        // never above the max softmax
        for (float[] v : new float[][] {z, {0f, 0.5f, 2f, -3f}, {4f, 4f, 4.1f}}) {
            assertTrue(PolicyRunner.margin(v) <= PolicyRunner.maxSoftmax(v));
        }
    }

    @Test
    void marginAndMaxSoftmaxDecideDifferently() throws Exception {
        // two classes nearly tied at every resolution: max softmax ~0.5, margin ~0.002
        PolicyRunner.Backbone torn = k -> new float[] {2f, 2.004f, -10f, -10f};
        double conf = PolicyRunner.maxSoftmax(torn.run(0)), margin = PolicyRunner.margin(torn.run(0));
        assertTrue(conf > 0.49 && margin < 0.01, conf + " " + margin);

        PolicyRunner.Outcome bySoftmax = PolicyRunner.run(cascade("cascade-128:0.4-160:0.4-224"), torn, null);
        assertEquals(Arrays.asList(3), bySoftmax.ran); // accepted at once
        PolicySpec m = cascade("cascade-margin-128:0.4-160:0.4-224");
        assertEquals(PolicySpec.Signal.MARGIN, m.signal);
        PolicyRunner.Outcome byMargin = PolicyRunner.run(m, torn, null);
        assertEquals(Arrays.asList(3, 2, 0), byMargin.ran); // unsure at every stage: the last answers
        assertEquals(0, byMargin.answeredIndex);
        assertEquals(1, byMargin.top1);
        // both signals are recorded for every pass, whichever decides
        assertEquals(3, byMargin.margin.size());
        assertEquals(3, byMargin.maxSoftmax.size());
        assertEquals(margin, byMargin.margin.get(0));
        assertEquals(conf, byMargin.maxSoftmax.get(0));
        assertEquals(1, bySoftmax.margin.size());

        // a clear winner passes either way; the margin accepts at exactly its threshold ([0, -inf]: 1 - 0)
        PolicyRunner.Backbone clear = k -> logitsWith(k, 0.9);
        assertEquals(Arrays.asList(3), PolicyRunner.run(m, clear, null).ran);
        float[] sure = {0f, Float.NEGATIVE_INFINITY};
        assertEquals(1.0, PolicyRunner.margin(sure));
        assertEquals(Arrays.asList(2), PolicyRunner.run(cascade("cascade-margin-160:1-224"), k -> sure, null).ran);

        // drnet-escalate keeps comparing the max softmax
        PolicyRunner.Outcome esc = PolicyRunner.run(PolicySpec.drnetEscalate(0.4, true), torn, () -> 2);
        assertEquals(Arrays.asList(2), esc.ran);
    }

    @Test
    void marginNamesAndSpecsRoundTrip() {
        PolicySpec m = cascade("cascade-margin-160:0.266-192");
        assertEquals("cascade-margin-160:0.266-192", m.name);
        assertEquals(PolicySpec.Kind.CASCADE, m.kind);
        assertEquals(PolicySpec.Signal.MARGIN, m.signal);
        assertEquals(Arrays.asList(160, 192), m.chain);
        assertEquals(Arrays.asList(2, 1), m.chainIndices);
        assertEquals(Arrays.asList(0.266), m.thresholds);
        Map<String, Object> json = Json.parseObject(Json.write(m.toJson()));
        assertEquals(Json.parseObject("{\"kind\": \"cascade\", \"resolutions\": [160, 192], \"thresholds\": [0.266], "
                + "\"signal\": \"margin\"}"), json);
        PolicySpec back = PolicySpec.fromJson(json, RES, true, "spec");
        assertEquals(m, back);
        assertEquals(m.hashCode(), back.hashCode());
        assertEquals(m.name, back.name);
        assertEquals(m, PolicySpec.cascade(Arrays.asList(160, 192), Arrays.asList(0.266), PolicySpec.Signal.MARGIN,
                RES));
        assertEquals("cascade-margin-128:0.9-160:0.5-224",
                cascade("cascade-margin-128:0.9-160:0.5-224").name);

        // the max softmax: no "signal" in the spec nor in the name; spelled out, it is the same policy
        PolicySpec s = cascade("cascade-160:0.266-192");
        assertEquals(PolicySpec.Signal.MAX_SOFTMAX, s.signal);
        assertFalse(s.toJson().containsKey("signal"));
        assertNotEquals(m, s);
        PolicySpec spelled = cascade("cascade-max_softmax-160:0.266-192");
        assertEquals(s, spelled);
        assertEquals("cascade-160:0.266-192", spelled.name);
        assertEquals(s, PolicySpec.fromJson(Json.parseObject("{\"kind\": \"cascade\", \"resolutions\": [160, 192], "
                + "\"thresholds\": [0.266], \"signal\": \"max_softmax\"}"), RES, true, "spec"));
        // other kinds have no signal
        assertEquals(PolicySpec.Signal.MAX_SOFTMAX, PolicySpec.drnetEscalate(0.5, true).signal);
        assertEquals(m.named("calibrated"), m);
        assertEquals(PolicySpec.Signal.MARGIN, m.named("calibrated").signal);
    }

    @Test
    void unknownSignalsAreRefused() {
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> PolicySpec.fromJson(Json.parseObject(
                "{\"kind\": \"cascade\", \"resolutions\": [160, 224], \"thresholds\": [0.3], \"signal\": \"entropy\"}"),
                RES, true, "policy.spec"));
        assertTrue(e.getMessage().startsWith("policy.spec.signal: "), e.getMessage());
        assertTrue(e.getMessage().contains("\"entropy\"") && e.getMessage().contains("max_softmax and margin"),
                e.getMessage());
        e = assertThrows(Json.JsonException.class, () -> PolicySpec.fromJson(Json.parseObject(
                "{\"kind\": \"cascade\", \"resolutions\": [160, 224], \"thresholds\": [0.3], \"signal\": null}"),
                RES, true, "policy.spec"));
        assertTrue(e.getMessage().startsWith("policy.spec.signal: "), e.getMessage());
        e = assertThrows(Json.JsonException.class, () -> cascade("cascade-entropy-160:0.3-224"));
        assertTrue(e.getMessage().contains("unknown cascade signal \"entropy\""), e.getMessage());
        e = assertThrows(Json.JsonException.class, () -> cascade("cascade-margin-224"));
        assertTrue(e.getMessage().contains("at least two stages"), e.getMessage());
        e = assertThrows(Json.JsonException.class, () -> cascade("cascade-margin-160:1.5-224"));
        assertTrue(e.getMessage().contains("outside (0, 1]"), e.getMessage());
    }
}
