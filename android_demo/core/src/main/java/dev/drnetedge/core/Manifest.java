package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The artifact directory's {@code manifest.json} (format "drnet-edge/artifacts", versions 1 and 2), as written
 * by {@code drnet-edge convert}: resolutions, predictor thumbnail size, preprocessing, classes, the models of
 * one target (the app uses "tflite") and, from version 2, the default policy chosen by calibration.
 * That policy is read from the selected target's own {@code targets.<target>.policy} when it has one (written
 * by {@code drnet-edge calibrate --artifacts DIR --runtime tflite}, calibrated on that target's converted,
 * e.g. int8, files), else from the top-level {@code policy} (copied from the PyTorch checkpoint); both have the
 * schema {@code {"name": ..., "spec": {...}, "calibration": {...}}} (drnet_edge.runtime.manifest.Manifest.policy_for).
 * Models are addressed by role: the predictor (its {@code resolution_index} is null) and the backbone of each
 * resolution index; file and model names carry no meaning. A newer version than {@link #NEWEST_VERSION} is
 * refused with a message saying to update the app.
 */
public final class Manifest {
    public static final String FORMAT = "drnet-edge/artifacts";
    /** The newest manifest version this app reads (drnet_edge.runtime.manifest.MANIFEST_VERSION). */
    public static final int NEWEST_VERSION = 2;

    public final int version;
    public final String sourceModel;
    public final String backbone;
    /** Backbone resolutions in model order (index k of the predictor's output chooses resolutions[k]). */
    public final List<Integer> resolutions;
    /** Side of the predictor's thumbnail; 0 when the artifacts hold no predictor. */
    public final int predictorInput;
    public final PreprocessSpec preprocess;
    public final List<String> classIds;
    public final List<String> classNames;
    public final String target;
    public final String precision;
    /** name -&gt; model, in manifest order. */
    public final Map<String, ModelInfo> models;
    /** The backbone of each resolution index (same order as {@link #resolutions}). */
    public final List<ModelInfo> backbones;
    /** The predictor, or null when the artifacts hold none. */
    private final ModelInfo predictorModel;
    /**
     * The policy the manifest carries for {@link #target} (version 2: {@code targets.<target>.policy}, else the
     * top-level {@code policy}), named as there; null when it carries none.
     */
    public final PolicySpec policy;
    /** The manifest policy's "calibration" record (how it was chosen), or null. */
    public final Map<String, Object> policyCalibration;
    /**
     * Where {@link #policy} was read: {@code "targets.<target>.policy"} (calibrated on this target's files) or
     * {@code "policy"} (the checkpoint's); null when there is no manifest policy.
     */
    public final String policySource;
    /**
     * The policy the app runs by default: the manifest's {@link #policy}, else "drnet" when there is a
     * predictor, else the largest fixed resolution.
     */
    public final PolicySpec defaultPolicy;
    /** The whole parsed document, for anything not modelled here. */
    public final Map<String, Object> raw;

    private Manifest(Map<String, Object> m, String target) {
        this.raw = m;
        Object fmt = m.get("format");
        if (!FORMAT.equals(fmt)) {
            throw new Json.JsonException("not a drnet-edge artifact manifest (format " + fmt + ", expected " + FORMAT + ")");
        }
        long version = Json.integer(Json.get(m, "version", "manifest"), "version");
        if (version > NEWEST_VERSION) {
            throw new Json.JsonException("manifest version " + version + " is newer than this app reads ("
                    + NEWEST_VERSION + "): update the app, or convert with the drnet-edge version it was built for");
        }
        if (version < 1) {
            throw new Json.JsonException("unknown manifest version " + version + " (this app reads 1 to "
                    + NEWEST_VERSION + ")");
        }
        this.version = (int) version;
        this.sourceModel = m.get("source_model") == null ? "" : Json.str(m.get("source_model"), "source_model");
        this.backbone = m.get("backbone") == null ? "" : Json.str(m.get("backbone"), "backbone");
        List<Integer> res = new ArrayList<>();
        for (Object r : Json.arr(Json.get(m, "resolutions", "manifest"), "resolutions")) {
            res.add((int) Json.integer(r, "resolutions"));
        }
        if (res.isEmpty()) {
            throw new Json.JsonException("manifest lists no resolutions");
        }
        this.resolutions = Collections.unmodifiableList(res);
        Object pi = m.get("predictor_input");
        this.predictorInput = pi == null ? 0 : (int) Json.integer(pi, "predictor_input");
        this.preprocess = PreprocessSpec.fromJson(Json.get(m, "preprocess", "manifest"));

        Map<String, Object> classes = Json.obj(Json.get(m, "classes", "manifest"), "classes");
        List<String> ids = new ArrayList<>(), names = new ArrayList<>();
        for (Object o : Json.arr(Json.get(classes, "ids", "classes"), "classes.ids")) {
            ids.add(Json.str(o, "classes.ids"));
        }
        for (Object o : Json.arr(Json.get(classes, "names", "classes"), "classes.names")) {
            names.add(Json.str(o, "classes.names"));
        }
        if (ids.size() != names.size()) {
            throw new Json.JsonException("classes: " + ids.size() + " ids but " + names.size() + " names");
        }
        this.classIds = Collections.unmodifiableList(ids);
        this.classNames = Collections.unmodifiableList(names);

        Map<String, Object> targets = Json.obj(Json.get(m, "targets", "manifest"), "targets");
        if (!targets.containsKey(target)) {
            throw new Json.JsonException("the artifacts hold no " + target + " models (they have: "
                    + String.join(", ", targets.keySet()) + "); convert with --target " + target);
        }
        Map<String, Object> t = Json.obj(targets.get(target), "targets." + target);
        this.target = target;
        this.precision = t.get("precision") == null ? "fp32" : Json.str(t.get("precision"), "precision");
        Map<String, ModelInfo> ms = new LinkedHashMap<>();
        ModelInfo[] byIndex = new ModelInfo[resolutions.size()];
        ModelInfo pred = null;
        for (Map.Entry<String, Object> e : Json.obj(Json.get(t, "models", "target"), "models").entrySet()) {
            ModelInfo mi = new ModelInfo(e.getKey(), Json.obj(e.getValue(), "model " + e.getKey()), resolutions);
            ms.put(e.getKey(), mi);
            if (mi.resolutionIndex == null) {
                if (pred != null) {
                    throw new Json.JsonException("models " + pred.name + " and " + mi.name
                            + " both have no resolution_index (only the predictor may lack one)");
                }
                pred = mi;
                continue;
            }
            int k = mi.resolutionIndex;
            if (k < 0 || k >= byIndex.length) {
                throw new Json.JsonException(mi.name + ": resolution_index " + k + " is outside 0.."
                        + (byIndex.length - 1) + " (resolutions " + resolutions + ")");
            }
            if (byIndex[k] != null) {
                throw new Json.JsonException("models " + byIndex[k].name + " and " + mi.name
                        + " both claim resolution index " + k);
            }
            if (mi.inputSize != resolutions.get(k)) {
                throw new Json.JsonException(mi.name + " takes " + mi.inputSize + " px input, but resolution index "
                        + k + " is " + resolutions.get(k) + " px");
            }
            byIndex[k] = mi;
        }
        for (int k = 0; k < byIndex.length; k++) {
            if (byIndex[k] == null) {
                throw new Json.JsonException("manifest has no " + target + " backbone for resolution index " + k
                        + " (" + resolutions.get(k) + " px)");
            }
        }
        this.models = Collections.unmodifiableMap(ms);
        this.backbones = Collections.unmodifiableList(java.util.Arrays.asList(byIndex));
        this.predictorModel = pred;
        if (pred != null) {
            if (predictorInput <= 0 || pred.inputSize != predictorInput) {
                throw new Json.JsonException("predictor input " + pred.inputSize + " does not match predictor_input "
                        + predictorInput);
            }
            if (pred.output.numElements() != resolutions.size()) {
                throw new Json.JsonException("predictor has " + pred.output.numElements() + " outputs for "
                        + resolutions.size() + " resolutions");
            }
        }

        // Version 2: the default policy, the target's own (calibrated on its converted files) before the
        // checkpoint's top-level one. Version 1 has none (like the Python reader, a stray key is ignored).
        String key = null;
        Object pol = null;
        if (version >= 2) {
            if (t.get("policy") != null) {
                key = "targets." + target + ".policy";
                pol = t.get("policy");
            } else if (m.get("policy") != null) {
                key = "policy";
                pol = m.get("policy");
            }
        }
        if (key != null) {
            Map<String, Object> p = Json.obj(pol, key);
            PolicySpec spec = policySpec(Json.get(p, "spec", key), resolutions, pred != null, key + ".spec");
            Object name = p.get("name");
            this.policy = name == null ? spec : spec.named(Json.str(name, key + ".name"));
            Object cal = p.get("calibration");
            this.policyCalibration = cal == null ? null
                    : Collections.unmodifiableMap(Json.obj(cal, key + ".calibration"));
        } else {
            this.policy = null;
            this.policyCalibration = null;
        }
        this.policySource = key;
        if (policy != null) {
            this.defaultPolicy = policy;
        } else if (pred != null) {
            this.defaultPolicy = PolicySpec.drnet(true);
        } else {
            this.defaultPolicy = PolicySpec.fixed(resolutions.indexOf(Collections.max(resolutions)), resolutions);
        }
    }

    /** {@link PolicySpec#fromJson}, with every refusal naming the manifest key ({@code where}) it came from. */
    private static PolicySpec policySpec(Object specJson, List<Integer> resolutions, boolean hasPredictor,
            String where) {
        try {
            return PolicySpec.fromJson(specJson, resolutions, hasPredictor, where);
        } catch (Json.JsonException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.startsWith(where)) {
                throw e;
            }
            throw new Json.JsonException(where + ": " + msg);
        }
    }

    /** Parse manifest text and select a target ("tflite" for the app). */
    public static Manifest parse(String json, String target) {
        return new Manifest(Json.parseObject(json), target);
    }

    public boolean hasPredictor() {
        return predictorModel != null;
    }

    public ModelInfo predictor() {
        if (predictorModel == null) {
            throw new IllegalStateException("the artifacts hold no predictor");
        }
        return predictorModel;
    }

    /** The backbone of resolution index {@code index} (resolutions[index] px). */
    public ModelInfo backboneAt(int index) {
        if (index < 0 || index >= backbones.size()) {
            throw new IllegalArgumentException("no resolution index " + index + " (resolutions: " + resolutions + ")");
        }
        return backbones.get(index);
    }

    /** The backbone taking {@code resolution} px input (looked up by its index in {@link #resolutions}). */
    public ModelInfo backbone(int resolution) {
        int k = resolutions.indexOf(resolution);
        if (k < 0) {
            throw new IllegalArgumentException("no backbone for " + resolution + " px (resolutions: " + resolutions + ")");
        }
        return backbones.get(k);
    }

    /** A policy by name ("drnet", "fixed-224", "drnet-escalate:0.7", "cascade-160:0.7-224", or the default's). */
    public PolicySpec policyNamed(String name) {
        if (defaultPolicy.name.equals(name)) {
            return defaultPolicy;
        }
        return PolicySpec.parseName(name, resolutions, hasPredictor());
    }

    /** The largest resolution: the fixed baseline the app's compare mode runs. */
    public int largestResolution() {
        return Collections.max(resolutions);
    }

    /** Index of a class id (e.g. a wnid folder name), or -1. */
    public int classIndex(String id) {
        return classIds.indexOf(id);
    }

    /** Distinct model files of the target (shared-weight backbones appear once). */
    public List<String> files() {
        List<String> out = new ArrayList<>();
        for (ModelInfo mi : models.values()) {
            if (!out.contains(mi.file)) {
                out.add(mi.file);
            }
        }
        return out;
    }
}
