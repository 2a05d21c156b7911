package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The artifact directory's {@code manifest.json} (format "drnet-edge/artifacts", version 1), as written by
 * {@code drnet-edge convert}: resolutions, predictor thumbnail size, preprocessing, classes and the models of
 * one target (the app uses "tflite").
 */
public final class Manifest {
    public static final String FORMAT = "drnet-edge/artifacts";

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
    /** The whole parsed document, for anything not modelled here. */
    public final Map<String, Object> raw;

    private Manifest(Map<String, Object> m, String target) {
        this.raw = m;
        Object fmt = m.get("format");
        if (!FORMAT.equals(fmt)) {
            throw new Json.JsonException("not a drnet-edge artifact manifest (format " + fmt + ", expected " + FORMAT + ")");
        }
        long version = Json.integer(Json.get(m, "version", "manifest"), "version");
        if (version != 1) {
            throw new Json.JsonException("manifest version " + version + " is not supported (this app reads version 1)");
        }
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
        for (Map.Entry<String, Object> e : Json.obj(Json.get(t, "models", "target"), "models").entrySet()) {
            ms.put(e.getKey(), new ModelInfo(e.getKey(), Json.obj(e.getValue(), "model " + e.getKey())));
        }
        this.models = Collections.unmodifiableMap(ms);
        for (int k = 0; k < resolutions.size(); k++) {
            ModelInfo b = ms.get("backbone_" + resolutions.get(k));
            if (b == null) {
                throw new Json.JsonException("manifest has no backbone_" + resolutions.get(k) + " for target " + target);
            }
            if (b.inputSize != resolutions.get(k)) {
                throw new Json.JsonException(b.name + " takes " + b.inputSize + " px input");
            }
        }
        ModelInfo p = ms.get("predictor");
        if (p != null) {
            if (predictorInput <= 0 || p.inputSize != predictorInput) {
                throw new Json.JsonException("predictor input " + p.inputSize + " does not match predictor_input " + predictorInput);
            }
            if (p.output.numElements() != resolutions.size()) {
                throw new Json.JsonException("predictor has " + p.output.numElements() + " outputs for "
                        + resolutions.size() + " resolutions");
            }
        }
    }

    /** Parse manifest text and select a target ("tflite" for the app). */
    public static Manifest parse(String json, String target) {
        return new Manifest(Json.parseObject(json), target);
    }

    public boolean hasPredictor() {
        return models.containsKey("predictor");
    }

    public ModelInfo predictor() {
        ModelInfo p = models.get("predictor");
        if (p == null) {
            throw new IllegalStateException("the artifacts hold no predictor");
        }
        return p;
    }

    public ModelInfo backbone(int resolution) {
        ModelInfo b = models.get("backbone_" + resolution);
        if (b == null) {
            throw new IllegalArgumentException("no backbone_" + resolution + " (resolutions: " + resolutions + ")");
        }
        return b;
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
