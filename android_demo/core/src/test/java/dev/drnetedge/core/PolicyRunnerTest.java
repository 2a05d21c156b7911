package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rule of each policy kind (drnet_edge.cascade.run_spec) on made-up confidences. */
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
}
