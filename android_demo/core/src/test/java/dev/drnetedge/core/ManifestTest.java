package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ManifestTest {
    @Test
    void parsesTheGoldenManifest() {
        Manifest m = Golden.manifest();
        Map<String, Object> g = Golden.json();
        List<Integer> expected = Arrays.asList(224, 192, 160, 128);
        assertEquals(expected, m.resolutions);
        assertEquals(64, m.predictorInput);
        assertEquals(224, m.largestResolution());
        assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f}, m.preprocess.mean);
        assertEquals(0.875, m.preprocess.cropPct);
        assertEquals("cubic", m.preprocess.interpolation);
        assertEquals(1000, m.classIds.size());
        assertEquals("n01440764", m.classIds.get(0));
        assertEquals("tench", m.classNames.get(0));
        assertEquals(0, m.classIndex("n01440764"));
        assertEquals(-1, m.classIndex("not-a-class"));
        assertEquals("tflite", m.target);
        assertEquals("fp32", m.precision);
        assertTrue(m.hasPredictor());
        ModelInfo p = m.predictor();
        assertEquals("tflite/predictor.tflite", p.file);
        assertNull(p.entry);
        assertEquals(Arrays.asList(1, 3, 64, 64), p.input.shape);
        assertFalse(p.output.isQuantized());
        assertNull(p.resolutionIndex);
        ModelInfo b = m.backbone(192);
        assertSame(b, m.backboneAt(1));
        assertEquals("tflite/backbone.tflite", b.file);
        assertEquals("backbone_192", b.entry);
        assertEquals(Integer.valueOf(1), b.resolutionIndex);
        assertTrue(b.macs > 0);
        for (int k = 0; k < m.resolutions.size(); k++) {
            assertEquals(Integer.valueOf(k), m.backboneAt(k).resolutionIndex);
            assertEquals(m.resolutions.get(k).intValue(), m.backboneAt(k).inputSize);
        }
        assertEquals(Arrays.asList("tflite/predictor.tflite", "tflite/backbone.tflite"), m.files());
        // the sha256s recorded in golden.json are the manifest's
        Map<String, Object> files = Json.obj(Json.obj(g.get("artifacts"), "artifacts").get("files"), "files");
        assertEquals(files.get("backbone_224"), m.backbone(224).sha256);
        // the default policy: the manifest's when it carries one (version 2), else the predictor's choice
        assertEquals(Json.integer(g.get("manifest_version"), "manifest_version"), m.version);
        Map<String, Object> gp = Json.obj(g.get("policies"), "policies");
        Object fromManifest = gp.get("manifest_policy");
        if (fromManifest == null) {
            assertNull(m.policy);
            assertEquals(PolicySpec.Kind.DRNET, m.defaultPolicy.kind);
            assertEquals("drnet", m.defaultPolicy.name);
        } else {
            assertEquals(fromManifest, m.defaultPolicy.name);
            assertSame(m.policy, m.defaultPolicy);
        }
    }

    @Test
    void otherTargetsAreReadable() {
        String text = twoTargets();
        Manifest onnx = Manifest.parse(text, "onnx");
        assertEquals("onnx/backbone_64.onnx", onnx.backbone(64).file);
        assertEquals("onnx/backbone_64.onnx", onnx.backboneAt(1).file);
        assertEquals("fp32", onnx.precision);
        assertEquals(3, onnx.files().size());
        Json.JsonException e = assertThrows(Json.JsonException.class, () -> Manifest.parse(text, "coreml"));
        assertTrue(e.getMessage().contains("tflite") && e.getMessage().contains("onnx"), e.getMessage());
    }

    /** The small int8 manifest plus an fp32 "onnx" target with separate files per resolution. */
    static String twoTargets() {
        String f = "{\"shape\": [1, 3, %d, %d], \"dtype\": \"float32\"}";
        String model = "{\"file\": \"onnx/%s.onnx\", \"sha256\": \"00\", \"input\": " + f + ", \"output\": "
                + "{\"shape\": [1, %d], \"dtype\": \"float32\"}, \"macs\": 10, \"input_size\": %d, "
                + "\"resolution_index\": %s}";
        String onnx = "\"onnx\": {\"precision\": \"fp32\", \"models\": {"
                + "\"predictor\": " + String.format(model, "predictor", 32, 32, 2, 32, "null") + ", "
                + "\"backbone_96\": " + String.format(model, "backbone_96", 96, 96, 3, 96, "0") + ", "
                + "\"backbone_64\": " + String.format(model, "backbone_64", 64, 64, 3, 64, "1") + "}}, ";
        return int8Manifest("\"scale\": 0.11, \"zero_point\": 0").replace("\"targets\": {", "\"targets\": {" + onnx);
    }

    static String int8Manifest(String outputQuant) {
        String spec = "{\"shape\": [1, 3, %d, %d], \"dtype\": \"int8\", \"scale\": 0.0078, \"zero_point\": 0}";
        String model = "{\"file\": \"tflite/%s.tflite\", \"sha256\": \"00\", \"precision\": \"int8\", \"input\": "
                + spec + ", \"output\": {\"shape\": [1, %d], \"dtype\": \"int8\", " + outputQuant + "}, "
                + "\"entry\": null, \"macs\": 10, \"input_size\": %d, \"resolution_index\": %s}";
        return "{\"format\": \"drnet-edge/artifacts\", \"version\": 1, \"resolutions\": [96, 64], "
                + "\"predictor_input\": 32, \"preprocess\": {\"mean\": [0.5, 0.5, 0.5], \"std\": [0.5, 0.5, 0.5], "
                + "\"crop_pct\": 1.0, \"interpolation\": \"cubic\", \"layout\": \"NCHW\"}, "
                + "\"classes\": {\"ids\": [\"a\", \"b\", \"c\"], \"names\": [\"A\", \"B\", \"C\"]}, "
                + "\"targets\": {\"tflite\": {\"precision\": \"int8\", \"models\": {"
                + "\"predictor\": " + String.format(model, "predictor", 32, 32, 2, 32, "null") + ", "
                + "\"backbone_96\": " + String.format(model, "backbone_96", 96, 96, 3, 96, "0") + ", "
                + "\"backbone_64\": " + String.format(model, "backbone_64", 64, 64, 3, 64, "1") + "}}}}";
    }

    @Test
    void parsesInt8Quantisation() {
        Manifest m = Manifest.parse(int8Manifest("\"scale\": 0.11, \"zero_point\": -34"), "tflite");
        assertEquals("int8", m.precision);
        TensorSpec out = m.predictor().output;
        assertTrue(out.isQuantized());
        assertEquals(0.11, out.scale);
        assertEquals(Integer.valueOf(-34), out.zeroPoint);
        assertTrue(m.predictor().input.isQuantized());
        assertEquals(96, m.largestResolution());
    }

    @Test
    void rejectsInconsistentManifests() {
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(int8Manifest("\"scale\": 0.11, \"zero_point\": null"), "tflite"));
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(int8Manifest("\"scale\": -1, \"zero_point\": 0"), "tflite"));
        String ok = int8Manifest("\"scale\": 0.11, \"zero_point\": 0");
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(ok.replace("drnet-edge/artifacts", "something-else"), "tflite"));
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(ok.replace("\"version\": 1", "\"version\": 3"), "tflite"));
        assertThrows(Json.JsonException.class,
                () -> Manifest.parse(ok.replace("\"resolutions\": [96, 64]", "\"resolutions\": [96, 48]"), "tflite"));
        assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse(ok.replace("\"cubic\"", "\"lanczos9\""), "tflite"));
    }

    // ------------------------------------------------------------------ versions and the default policy

    static final String SMALL = int8Manifest("\"scale\": 0.11, \"zero_point\": 0");

    /** The small manifest (resolutions [96, 64], with predictor) at {@code version} with a top-level policy. */
    static String withPolicy(int version, String policyJson) {
        String s = SMALL.replace("\"version\": 1", "\"version\": " + version);
        return policyJson == null ? s : s.replace("\"targets\": {", "\"policy\": " + policyJson + ", \"targets\": {");
    }

    static String policy(String name, String spec) {
        return "{\"name\": \"" + name + "\", \"spec\": " + spec + ", \"calibration\": {\"n\": 500, \"top1\": 0.7}}";
    }

    static String withoutPredictor(String manifest) {
        int a = manifest.indexOf("\"predictor\": {\"file\"");
        int b = manifest.indexOf("\"backbone_96\": {");
        return manifest.substring(0, a) + manifest.substring(b);
    }

    static Json.JsonException refused(String manifest) {
        return assertThrows(Json.JsonException.class, () -> Manifest.parse(manifest, "tflite"));
    }

    @Test
    void version1WithoutPolicyRunsTheDrnetChoice() {
        Manifest m = Manifest.parse(SMALL, "tflite");
        assertEquals(1, m.version);
        assertNull(m.policy);
        assertNull(m.policyCalibration);
        assertEquals(PolicySpec.Kind.DRNET, m.defaultPolicy.kind);
        assertEquals("drnet", m.defaultPolicy.name);
        // version 1 has no policy section: a stray one is ignored, as by the Python reader
        Manifest stray = Manifest.parse(withPolicy(1, policy("cascade-64:0.7-96",
                "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.7]}")), "tflite");
        assertNull(stray.policy);
        assertEquals("drnet", stray.defaultPolicy.name);
    }

    @Test
    void withoutPredictorTheDefaultIsTheLargestFixedResolution() {
        Manifest m = Manifest.parse(withoutPredictor(SMALL), "tflite");
        assertFalse(m.hasPredictor());
        assertEquals(PolicySpec.Kind.FIXED, m.defaultPolicy.kind);
        assertEquals(0, m.defaultPolicy.resolutionIndex);
        assertEquals("fixed-96", m.defaultPolicy.name);
        Manifest v2 = Manifest.parse(withoutPredictor(withPolicy(2, null)), "tflite");
        assertEquals("fixed-96", v2.defaultPolicy.name);
        // a policy that needs the predictor cannot be the default of models without one
        Json.JsonException e = refused(withoutPredictor(withPolicy(2, policy("drnet", "{\"kind\": \"drnet\"}"))));
        assertTrue(e.getMessage().contains("needs the resolution predictor"), e.getMessage());
    }

    @Test
    void version2WithoutPolicyRunsTheDrnetChoice() {
        Manifest m = Manifest.parse(withPolicy(2, null), "tflite");
        assertEquals(2, m.version);
        assertNull(m.policy);
        assertEquals("drnet", m.defaultPolicy.name);
    }

    @Test
    void version2WithACascade() {
        Manifest m = Manifest.parse(withPolicy(2, policy("cascade-64:0.7-96",
                "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.7]}")), "tflite");
        assertEquals(2, m.version);
        assertNotNull(m.policy);
        assertSame(m.policy, m.defaultPolicy);
        PolicySpec p = m.defaultPolicy;
        assertEquals(PolicySpec.Kind.CASCADE, p.kind);
        assertEquals("cascade-64:0.7-96", p.name);
        assertEquals(Arrays.asList(64, 96), p.chain);
        assertEquals(Arrays.asList(1, 0), p.chainIndices); // resolutions are [96, 64]
        assertEquals(Arrays.asList(0.7), p.thresholds);
        assertTrue(p.multiPass());
        assertFalse(p.usesPredictor());
        assertEquals(500L, m.policyCalibration.get("n"));
        // the spec goes back out as Python reads it
        assertEquals(Json.parseObject("{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.7]}"),
                Json.parseObject(Json.write(p.toJson())));
        // the name is the manifest's, even when it is not the canonical one
        Manifest renamed = Manifest.parse(withPolicy(2, policy("calibrated",
                "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.7]}")), "tflite");
        assertEquals("calibrated", renamed.defaultPolicy.name);
        assertEquals(p, renamed.defaultPolicy);
    }

    @Test
    void version2WithOtherKinds() {
        Manifest esc = Manifest.parse(withPolicy(2, policy("drnet-escalate:0.6",
                "{\"kind\": \"drnet-escalate\", \"threshold\": 0.6}")), "tflite");
        assertEquals(PolicySpec.Kind.DRNET_ESCALATE, esc.defaultPolicy.kind);
        assertEquals(0.6, esc.defaultPolicy.threshold);
        assertTrue(esc.defaultPolicy.usesPredictor());
        Manifest fixed = Manifest.parse(withPolicy(2, policy("fixed-64",
                "{\"kind\": \"fixed\", \"resolution_index\": 1}")), "tflite");
        assertEquals(1, fixed.defaultPolicy.resolutionIndex);
        assertEquals("fixed-64", fixed.defaultPolicy.name);
        // a threshold of exactly 1 is allowed (escalate unless certain)
        Manifest one = Manifest.parse(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [64, 96], "
                + "\"thresholds\": [1]}")), "tflite");
        assertEquals(Arrays.asList(1.0), one.defaultPolicy.thresholds);
    }

    @Test
    void refusesThresholdsOutsideZeroToOne() {
        for (String t : new String[] {"0", "0.0", "-0.2", "1.5", "1.0000001"}) {
            Json.JsonException e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": "
                    + "[64, 96], \"thresholds\": [" + t + "]}")));
            assertTrue(e.getMessage().contains("outside (0, 1]"), e.getMessage());
            e = refused(withPolicy(2, policy("e", "{\"kind\": \"drnet-escalate\", \"threshold\": " + t + "}")));
            assertTrue(e.getMessage().contains("outside (0, 1]"), e.getMessage());
        }
    }

    @Test
    void refusesChainsThatDoNotFitTheModel() {
        Json.JsonException e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [48, 96], "
                + "\"thresholds\": [0.7]}")));
        assertTrue(e.getMessage().contains("48 is not one of the model's resolutions [96, 64]"), e.getMessage());
        e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [96, 64], "
                + "\"thresholds\": [0.7]}")));
        assertTrue(e.getMessage().contains("smallest resolution to larger"), e.getMessage());
        e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [64, 96], "
                + "\"thresholds\": [0.7, 0.8]}")));
        assertTrue(e.getMessage().contains("2 threshold(s) for 2 stages"), e.getMessage());
        e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [96], \"thresholds\": []}")));
        assertTrue(e.getMessage().contains("at least two stages"), e.getMessage());
        e = refused(withPolicy(2, policy("f", "{\"kind\": \"fixed\", \"resolution_index\": 2}")));
        assertTrue(e.getMessage().contains("outside 0..1"), e.getMessage());
        e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [64, 96]}")));
        assertTrue(e.getMessage().contains("thresholds"), e.getMessage());
        e = refused(withPolicy(2, "{\"name\": \"no-spec\"}"));
        assertTrue(e.getMessage().contains("spec"), e.getMessage());
    }

    // ------------------------------------------------------------------ a target's own policy (targets.<t>.policy)

    static final String CASCADE = policy("cascade-64:0.7-96",
            "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.7]}");

    /** {@code manifest} with {@code policyJson} as the tflite target's own policy. */
    static String withTargetPolicy(String manifest, String policyJson) {
        String at = "\"tflite\": {\"precision\"";
        assertTrue(manifest.contains(at));
        return manifest.replace(at, "\"tflite\": {\"policy\": " + policyJson + ", \"precision\"");
    }

    @Test
    void theTargetsOwnPolicyTakesPrecedence() {
        String own = "{\"name\": \"drnet-escalate:0.6\", \"spec\": {\"kind\": \"drnet-escalate\", \"threshold\": 0.6}, "
                + "\"calibration\": {\"n\": 300, \"data\": \"int8\"}}";
        Manifest m = Manifest.parse(withTargetPolicy(withPolicy(2, CASCADE), own), "tflite");
        assertEquals("drnet-escalate:0.6", m.defaultPolicy.name);
        assertSame(m.policy, m.defaultPolicy);
        assertEquals(PolicySpec.Kind.DRNET_ESCALATE, m.policy.kind);
        assertEquals(0.6, m.policy.threshold);
        assertEquals(300L, m.policyCalibration.get("n"));
        assertEquals("int8", m.policyCalibration.get("data"));
        assertEquals("targets.tflite.policy", m.policySource);
        assertEquals(m.defaultPolicy, m.policyNamed("drnet-escalate:0.6"));
        // without a top-level policy too
        Manifest only = Manifest.parse(withTargetPolicy(withPolicy(2, null), own), "tflite");
        assertEquals("drnet-escalate:0.6", only.defaultPolicy.name);
        assertEquals("targets.tflite.policy", only.policySource);
        // another target's reader is not given the tflite policy: it falls back to the top-level one
        String two = withTargetPolicy(twoTargets().replace("\"version\": 1", "\"version\": 2")
                .replace("\"targets\": {", "\"policy\": " + CASCADE + ", \"targets\": {"), own);
        Manifest onnx = Manifest.parse(two, "onnx");
        assertEquals("cascade-64:0.7-96", onnx.defaultPolicy.name);
        assertEquals("policy", onnx.policySource);
        assertEquals("drnet-escalate:0.6", Manifest.parse(two, "tflite").defaultPolicy.name);
    }

    @Test
    void withoutATargetPolicyTheTopLevelOneRuns() {
        Manifest m = Manifest.parse(withPolicy(2, CASCADE), "tflite");
        assertEquals("cascade-64:0.7-96", m.defaultPolicy.name);
        assertSame(m.policy, m.defaultPolicy);
        assertEquals(500L, m.policyCalibration.get("n"));
        assertEquals("policy", m.policySource);
        // a null target policy is no policy (as drnet_edge.runtime.manifest.Manifest.policy_for reads it)
        Manifest nul = Manifest.parse(withTargetPolicy(withPolicy(2, CASCADE), "null"), "tflite");
        assertEquals("cascade-64:0.7-96", nul.defaultPolicy.name);
        assertEquals("policy", nul.policySource);
        // neither: the predictor's choice
        Manifest none = Manifest.parse(withPolicy(2, null), "tflite");
        assertNull(none.policySource);
        assertEquals("drnet", none.defaultPolicy.name);
        // version 1 has no policies: a stray target policy is ignored like a stray top-level one
        Manifest v1 = Manifest.parse(withTargetPolicy(SMALL, CASCADE), "tflite");
        assertNull(v1.policy);
        assertNull(v1.policySource);
        assertEquals("drnet", v1.defaultPolicy.name);
    }

    @Test
    void refusesAMalformedTargetPolicyNamingTheKey() {
        String v2 = withPolicy(2, CASCADE);
        Json.JsonException e = refused(withTargetPolicy(v2, "{\"name\": \"no-spec\"}"));
        assertEquals("targets.tflite.policy: missing key \"spec\"", e.getMessage());
        e = refused(withTargetPolicy(v2, "[1, 2]"));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy: expected an object"), e.getMessage());
        e = refused(withTargetPolicy(v2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [48, 96], "
                + "\"thresholds\": [0.7]}")));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.spec: "), e.getMessage());
        assertTrue(e.getMessage().contains("48 is not one of the model's resolutions [96, 64]"), e.getMessage());
        e = refused(withTargetPolicy(v2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [64, 96]}")));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.spec: missing key \"thresholds\""), e.getMessage());
        e = refused(withTargetPolicy(v2, policy("e", "{\"kind\": \"drnet-escalate\", \"threshold\": 1.5}")));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.spec: ")
                && e.getMessage().contains("outside (0, 1]"), e.getMessage());
        e = refused(withTargetPolicy(v2, policy("x", "{\"kind\": \"early-exit\"}")));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.spec: unknown policy kind \"early-exit\""),
                e.getMessage());
        e = refused(withTargetPolicy(v2, "{\"name\": 7, \"spec\": {\"kind\": \"drnet\"}}"));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.name: expected a string"), e.getMessage());
        e = refused(withTargetPolicy(v2, "{\"spec\": {\"kind\": \"drnet\"}, \"calibration\": 3}"));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.calibration: expected an object"), e.getMessage());
        e = refused(withoutPredictor(withTargetPolicy(v2, policy("drnet", "{\"kind\": \"drnet\"}"))));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.spec: ")
                && e.getMessage().contains("needs the resolution predictor"), e.getMessage());
        // the top-level policy's refusals name it the same way
        e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [48, 96], "
                + "\"thresholds\": [0.7]}")));
        assertTrue(e.getMessage().startsWith("policy.spec: "), e.getMessage());
    }

    @Test
    void aMarginCascadeAndUnknownSignals() {
        String spec = "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.266], "
                + "\"signal\": \"margin\"}";
        Manifest m = Manifest.parse(withPolicy(2, policy("cascade-margin-64:0.266-96", spec)), "tflite");
        PolicySpec p = m.defaultPolicy;
        assertEquals(PolicySpec.Kind.CASCADE, p.kind);
        assertEquals(PolicySpec.Signal.MARGIN, p.signal);
        assertEquals("cascade-margin-64:0.266-96", p.name);
        assertEquals(Arrays.asList(0.266), p.thresholds);
        assertEquals(Json.parseObject(spec), Json.parseObject(Json.write(p.toJson())));
        assertEquals(p, m.policyNamed("cascade-margin-64:0.266-96"));
        // the same thresholds on the max softmax are another policy
        assertNotEquals(p, m.policyNamed("cascade-64:0.266-96"));
        Manifest own = Manifest.parse(withTargetPolicy(withPolicy(2, CASCADE), policy("m", spec)), "tflite");
        assertEquals(PolicySpec.Signal.MARGIN, own.defaultPolicy.signal);

        String entropy = policy("c", "{\"kind\": \"cascade\", \"resolutions\": [64, 96], \"thresholds\": [0.3], "
                + "\"signal\": \"entropy\"}");
        Json.JsonException e = refused(withPolicy(2, entropy));
        assertTrue(e.getMessage().startsWith("policy.spec.signal: unknown cascade signal \"entropy\""), e.getMessage());
        assertTrue(e.getMessage().contains("max_softmax and margin") && e.getMessage().contains("update the app"),
                e.getMessage());
        e = refused(withTargetPolicy(withPolicy(2, CASCADE), entropy));
        assertTrue(e.getMessage().startsWith("targets.tflite.policy.spec.signal: unknown cascade signal \"entropy\""),
                e.getMessage());
        e = refused(withPolicy(2, policy("c", "{\"kind\": \"cascade\", \"resolutions\": [64, 96], "
                + "\"thresholds\": [0.3], \"signal\": 2}")));
        assertTrue(e.getMessage().startsWith("policy.spec.signal: expected a string"), e.getMessage());
    }

    @Test
    void refusesUnknownPolicyKinds() {
        Json.JsonException e = refused(withPolicy(2, policy("x", "{\"kind\": \"early-exit\", \"threshold\": 0.5}")));
        assertTrue(e.getMessage().contains("unknown policy kind \"early-exit\""), e.getMessage());
        assertTrue(e.getMessage().contains("update the app"), e.getMessage());
    }

    @Test
    void refusesNewerVersionsWithAClearMessage() {
        Json.JsonException e = refused(withPolicy(3, null));
        assertEquals("manifest version 3 is newer than this app reads (2): update the app, or convert with the "
                + "drnet-edge version it was built for", e.getMessage());
        e = refused(withPolicy(0, null));
        assertTrue(e.getMessage().contains("unknown manifest version 0"), e.getMessage());
    }

    @Test
    void modelsAreAddressedByResolutionIndexNotByName() {
        // names carry no meaning: swap the keys, the indices still decide
        String swapped = SMALL.replace("\"backbone_96\": {", "\"tmp\": {").replace("\"backbone_64\": {", "\"backbone_96\": {")
                .replace("\"tmp\": {", "\"backbone_64\": {").replace("\"predictor\": {", "\"thumbnail-net\": {");
        Manifest m = Manifest.parse(swapped, "tflite");
        assertEquals(96, m.backboneAt(0).inputSize);
        assertEquals("backbone_64", m.backboneAt(0).name);
        assertEquals("thumbnail-net", m.predictor().name);
        // two backbones claiming one index, or an index left without a backbone, are refused
        Json.JsonException e = refused(SMALL.replace("\"input_size\": 64, \"resolution_index\": 1",
                "\"input_size\": 64, \"resolution_index\": 0"));
        assertTrue(e.getMessage().contains("both claim resolution index 0")
                || e.getMessage().contains("takes 64 px input"), e.getMessage());
        e = refused(SMALL.replace("\"input_size\": 64, \"resolution_index\": 1", "\"input_size\": 64, "
                + "\"resolution_index\": 5"));
        assertTrue(e.getMessage().contains("outside 0..1"), e.getMessage());
        // legacy version-1 manifests without resolution_index: the role comes from "predictor" / "backbone_<R>"
        Manifest legacy = Manifest.parse(SMALL.replace(", \"resolution_index\": null", "")
                .replace(", \"resolution_index\": 0", "").replace(", \"resolution_index\": 1", ""), "tflite");
        assertEquals("backbone_64", legacy.backboneAt(1).name);
        assertTrue(legacy.hasPredictor());
    }

    @Test
    void policiesByName() {
        List<Integer> res = Arrays.asList(224, 192, 160, 128);
        PolicySpec c = PolicySpec.parseName("cascade-128:0.8-160:0.65-224", res, true);
        assertEquals(Arrays.asList(128, 160, 224), c.chain);
        assertEquals(Arrays.asList(3, 2, 0), c.chainIndices);
        assertEquals(Arrays.asList(0.8, 0.65), c.thresholds);
        assertEquals("cascade-128:0.8-160:0.65-224", c.name);
        assertEquals(PolicySpec.cascade(Arrays.asList(128, 160, 224), Arrays.asList(0.8, 0.65), res), c);
        PolicySpec e = PolicySpec.parseName("drnet-escalate:0.7", res, true);
        assertEquals(0.7, e.threshold);
        assertEquals("drnet-escalate:0.7", PolicySpec.drnetEscalate(0.7, true).name);
        assertEquals(2, PolicySpec.parseName("fixed-160", res, false).resolutionIndex);
        assertEquals("drnet", PolicySpec.parseName("drnet", res, true).name);
        assertThrows(Json.JsonException.class, () -> PolicySpec.parseName("drnet", res, false));
        assertThrows(Json.JsonException.class, () -> PolicySpec.parseName("cascade-160-224", res, true));
        assertThrows(Json.JsonException.class, () -> PolicySpec.parseName("cascade-160:0.7-224:0.9", res, true));
        assertThrows(Json.JsonException.class, () -> PolicySpec.parseName("cascade-161:0.7-224", res, true));
        assertThrows(Json.JsonException.class, () -> PolicySpec.parseName("fixed-100", res, true));
        assertThrows(Json.JsonException.class, () -> PolicySpec.parseName("oracle", res, true));
        // names format thresholds like Python's f"{t:g}"
        assertEquals("0.7", PolicySpec.formatG(0.7));
        assertEquals("1", PolicySpec.formatG(1.0));
        assertEquals("0.123457", PolicySpec.formatG(0.1234567));
        assertEquals("0.0001", PolicySpec.formatG(0.0001));
        assertEquals("1e-05", PolicySpec.formatG(0.00001));
        assertEquals("0.55", PolicySpec.formatG(0.55));
    }
}
