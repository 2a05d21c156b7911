package dev.drnetedge.core;

import java.util.Map;

/** One converted model in the manifest ({@code targets.<target>.models.<name>}). */
public final class ModelInfo {
    /** "predictor" or "backbone_&lt;R&gt;". */
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

    ModelInfo(String name, Map<String, Object> m) {
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
        Object ri = m.get("resolution_index");
        this.resolutionIndex = ri == null ? null : (int) Json.integer(ri, what + ".resolution_index");
        if (input.shape.size() != 4 || input.shape.get(1) != 3 || input.shape.get(2) != inputSize
                || input.shape.get(3) != inputSize) {
            throw new Json.JsonException(what + ": input shape " + input.shape + " is not [1, 3, " + inputSize + ", "
                    + inputSize + "] (NCHW)");
        }
    }
}
