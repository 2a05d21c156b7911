package dev.drnetedge.core;

import java.util.List;
import java.util.Map;

/** One converted model in the manifest ({@code targets.<target>.models.<name>}). */
public final class ModelInfo {
    /** The manifest's key, e.g. "predictor" or "backbone_224": a label only, never parsed for meaning. */
    public final String name;
    /** Path relative to the artifact directory, e.g. "tflite/backbone.tflite". */
    public final String file;
    public final String sha256;
    public final String precision;
    public final TensorSpec input;
    public final TensorSpec output;
    /** LiteRT signature name when several backbones share one file, else null. */
    public final String entry;
    public final long macs;
    public final int inputSize;
    /** Index into the resolutions list (null for the predictor). */
    public final Integer resolutionIndex;

    ModelInfo(String name, Map<String, Object> m, List<Integer> resolutions) {
        String what = "model " + name;
        this.name = name;
        this.file = Json.str(Json.get(m, "file", what), what + ".file");
        this.sha256 = Json.str(Json.get(m, "sha256", what), what + ".sha256");
        this.precision = m.get("precision") == null ? "fp32" : Json.str(m.get("precision"), what + ".precision");
        this.input = TensorSpec.fromJson(Json.get(m, "input", what), what + ".input");
        this.output = TensorSpec.fromJson(Json.get(m, "output", what), what + ".output");
        Object e = m.get("entry");
        this.entry = e == null ? null : Json.str(e, what + ".entry");
        this.macs = m.get("macs") == null ? 0 : Json.integer(m.get("macs"), what + ".macs");
        this.inputSize = (int) Json.integer(Json.get(m, "input_size", what), what + ".input_size");
        if (m.containsKey("resolution_index")) {
            Object ri = m.get("resolution_index");
            this.resolutionIndex = ri == null ? null : (int) Json.integer(ri, what + ".resolution_index");
        } else {
            this.resolutionIndex = legacyIndex(name, resolutions);
        }
        if (input.shape.size() != 4 || input.shape.get(1) != 3 || input.shape.get(2) != inputSize
                || input.shape.get(3) != inputSize) {
            throw new Json.JsonException(what + ": input shape " + input.shape + " is not [1, 3, " + inputSize + ", "
                    + inputSize + "] (NCHW)");
        }
    }

    /**
     * Version-1 manifests written before {@code resolution_index} existed named their models "predictor" and
     * "backbone_&lt;R&gt;"; like the Python reader (drnet_edge.runtime.manifest), only then is the role read from the name.
     */
    private static Integer legacyIndex(String name, List<Integer> resolutions) {
        if ("predictor".equals(name)) {
            return null;
        }
        String tail = name.substring(name.lastIndexOf('_') + 1);
        if (!tail.isEmpty() && tail.chars().allMatch(Character::isDigit) && tail.length() < 6
                && resolutions.contains(Integer.parseInt(tail))) {
            return resolutions.indexOf(Integer.parseInt(tail));
        }
        throw new Json.JsonException("manifest model " + name + " has no resolution_index; reconvert the artifacts");
    }
}
