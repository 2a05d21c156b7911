package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The Java PolicyRunner replays Python's decisions (drnet_edge.policy.spec.run_spec, written by make_golden.py) on
 * the golden TFLite logits: same passes, same resolution answered at, same top-1, same max softmax and margin
 * (top-1 minus top-2 softmax probability, the signal of cascades with {@code "signal": "margin"}).
 */
class PolicyGoldenTest {
    static Map<String, Object> image(String name) {
        for (Object o : Golden.images()) {
            Map<String, Object> img = Json.obj(o, "image");
            if (name.equals(img.get("name"))) {
                return img;
            }
        }
        throw new AssertionError("no golden image " + name);
    }

    static float[] logits(Map<String, Object> img, int resolution) {
        Map<String, Object> b = Json.obj(Json.obj(img.get("backbones"), "backbones").get(Integer.toString(resolution)), "b");
        return Golden.f32(Json.str(b.get("logits"), "logits"));
    }

    static List<Integer> ints(Object list) {
        List<Integer> out = new ArrayList<>();
        for (Object o : Json.arr(list, "ints")) {
            out.add((int) Json.integer(o, "int"));
        }
        return out;
    }

    /** Run {@code spec} on each golden decision's image and check Python's outcome; the outcomes, in order. */
    static List<PolicyRunner.Outcome> replay(Manifest m, PolicySpec spec, String name, Object decisions)
            throws Exception {
        List<PolicyRunner.Outcome> out = new ArrayList<>();
        for (Object d : Json.arr(decisions, "decisions")) {
            Map<String, Object> dec = Json.obj(d, "decision");
            final Map<String, Object> img = image(Json.str(dec.get("image"), "image"));
            final List<Integer> calls = new ArrayList<>();
            PolicyRunner.Backbone backbone = k -> {
                calls.add(k);
                return logits(img, m.resolutions.get(k));
            };
            PolicyRunner.Predictor predictor = () -> ResolutionChooser.chooseIndex(
                    ChoiceAndLabelsGoldenTest.floats(Json.obj(img.get("predictor"), "p").get("logits")),
                    m.resolutions.size());
            PolicyRunner.Outcome o = PolicyRunner.run(spec, backbone, predictor);
            String where = name + " on " + img.get("name");
            assertEquals(ints(dec.get("ran")), o.ran, where);
            assertEquals(o.ran, calls, where + ": only the passes in ran were run");
            assertEquals(Json.integer(dec.get("answered_index"), "answered_index"), o.answeredIndex, where);
            assertEquals(Json.integer(dec.get("top1"), "top1"), o.top1, where);
            assertEquals(dec.get("escalated"), o.escalated(), where);
            for (int i = 0; i < o.ran.size(); i++) {
                Map<String, Object> b = Json.obj(Json.obj(img.get("backbones"), "b")
                        .get(Integer.toString(m.resolutions.get(o.ran.get(i)))), "b");
                assertEquals(Json.num(b.get("max_softmax"), "ms"), o.maxSoftmax.get(i), 1e-12, where);
            }
            if (dec.containsKey("margin")) {
                List<Object> margins = Json.arr(dec.get("margin"), "margin");
                assertEquals(o.ran.size(), margins.size(), where);
                for (int i = 0; i < margins.size(); i++) {
                    assertEquals(Json.num(margins.get(i), "margin"), o.margin.get(i), 1e-12, where + " margin");
                }
            }
            out.add(o);
        }
        return out;
    }

    @Test
    void maxSoftmaxMatchesPython() {
        Manifest m = Golden.manifest();
        for (Object o : Golden.images()) {
            Map<String, Object> img = Json.obj(o, "image");
            for (int r : m.resolutions) {
                Map<String, Object> b = Json.obj(Json.obj(img.get("backbones"), "b").get(Integer.toString(r)), "b");
                double expected = Json.num(b.get("max_softmax"), "max_softmax");
                assertEquals(expected, PolicyRunner.maxSoftmax(logits(img, r)), 1e-12 * expected, img.get("name") + "@" + r);
            }
        }
    }

    @Test
    void policyRunnerReproducesPythonsDecisions() throws Exception {
        Manifest m = Golden.manifest();
        Map<String, Object> policies = Json.obj(Golden.json().get("policies"), "policies");
        List<Object> cases = Json.arr(policies.get("cases"), "cases");
        assertTrue(cases.size() >= 4, "golden.json has " + cases.size() + " policy cases");
        Set<String> kinds = new HashSet<>();
        Set<PolicySpec.Signal> signals = new HashSet<>();
        int escalated = 0, accepted = 0, marginDiffers = 0;
        for (Object c : cases) {
            Map<String, Object> pc = Json.obj(c, "case");
            String name = Json.str(pc.get("name"), "name");
            PolicySpec spec = PolicySpec.fromJson(pc.get("spec"), m.resolutions, m.hasPredictor(), name);
            if ("test".equals(pc.get("source"))) {
                assertEquals(name, spec.name, "Java names the spec as Python does");
                assertEquals(spec, PolicySpec.parseName(name, m.resolutions, true), name);
            } else {
                assertEquals(name, m.defaultPolicy.name);
                assertEquals(m.defaultPolicy, spec);
            }
            kinds.add(spec.kind.json);
            if (spec.kind == PolicySpec.Kind.CASCADE) {
                signals.add(spec.signal);
            }
            List<PolicyRunner.Outcome> outcomes = replay(m, spec, name, pc.get("decisions"));
            if (spec.signal == PolicySpec.Signal.MARGIN) {
                // the same thresholds on the max softmax decide otherwise on some images
                PolicySpec twin = PolicySpec.cascade(spec.chain, spec.thresholds, PolicySpec.Signal.MAX_SOFTMAX,
                        m.resolutions);
                List<Object> decisions = Json.arr(pc.get("decisions"), "decisions");
                for (int i = 0; i < decisions.size(); i++) {
                    Map<String, Object> dec = Json.obj(decisions.get(i), "decision");
                    final Map<String, Object> img = image(Json.str(dec.get("image"), "image"));
                    PolicyRunner.Outcome t = PolicyRunner.run(twin, k -> logits(img, m.resolutions.get(k)), null);
                    if (!t.ran.equals(outcomes.get(i).ran)) {
                        marginDiffers++;
                    }
                }
            }
            for (PolicyRunner.Outcome o : outcomes) {
                if (spec.multiPass()) {
                    if (o.escalated()) {
                        escalated++;
                    } else {
                        accepted++;
                    }
                }
            }
        }
        assertTrue(kinds.contains("cascade") && kinds.contains("drnet-escalate") && kinds.contains("drnet")
                && kinds.contains("fixed"), "kinds covered: " + kinds);
        assertEquals(EnumSet.allOf(PolicySpec.Signal.class), signals, "cascade signals covered");
        assertTrue(marginDiffers > 0, "the margin cascades decide as their max-softmax twins on every image");
        // the thresholds split the golden images: both outcomes are exercised
        assertTrue(escalated > 0 && accepted > 0, escalated + " escalated, " + accepted + " accepted");
    }

    /**
     * A policy calibrated on the tflite files ({@code targets.tflite.policy}, from {@code drnet-edge calibrate
     * --artifacts DIR --runtime tflite}) is the one the app runs, not the checkpoint's top-level policy: the
     * golden manifest given one of the golden test specs as its tflite policy reproduces that spec's decisions.
     */
    @Test
    void theTflitePolicyIsTheOneThatRuns() throws Exception {
        Manifest plain = Golden.manifest();
        Map<String, Object> policies = Json.obj(Golden.json().get("policies"), "policies");
        Map<String, Object> chosen = null;
        for (Object c : Json.arr(policies.get("cases"), "cases")) {
            Map<String, Object> pc = Json.obj(c, "case");
            PolicySpec spec = PolicySpec.fromJson(pc.get("spec"), plain.resolutions, true, "case");
            if ("test".equals(pc.get("source")) && spec.multiPass() && !spec.equals(plain.defaultPolicy)) {
                chosen = pc;
                break;
            }
        }
        assertNotNull(chosen, "golden.json has a multi-pass test policy other than the manifest's");
        String name = Json.str(chosen.get("name"), "name");

        Map<String, Object> doc = Json.parseObject(Golden.text(Json.str(Golden.json().get("manifest"), "manifest")));
        Map<String, Object> tflite = Json.obj(Json.obj(doc.get("targets"), "targets").get("tflite"), "tflite");
        Map<String, Object> own = new LinkedHashMap<>();
        own.put("name", name);
        own.put("spec", chosen.get("spec"));
        own.put("calibration", Json.parseObject("{\"data\": \"int8 tflite files\", \"n\": 231}"));
        tflite.put("policy", own);
        Manifest m = Manifest.parse(Json.write(doc), "tflite");

        assertEquals(name, m.defaultPolicy.name);
        assertSame(m.policy, m.defaultPolicy);
        assertEquals("targets.tflite.policy", m.policySource);
        assertEquals("int8 tflite files", m.policyCalibration.get("data"));
        assertNotEquals(plain.defaultPolicy, m.defaultPolicy);
        List<PolicyRunner.Outcome> ran = replay(m, m.defaultPolicy, name, chosen.get("decisions"));
        assertEquals(Json.arr(chosen.get("decisions"), "decisions").size(), ran.size());
    }
}
