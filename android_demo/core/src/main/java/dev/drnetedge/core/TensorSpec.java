package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/** Shape, dtype and (for int8/uint8 tensors) quantisation of a model input or output, as in the manifest. */
public final class TensorSpec {
    public final List<Integer> shape;
    public final String dtype;
    /** null for float tensors. */
    public final Double scale;
    /** null for float tensors. */
    public final Integer zeroPoint;

    public TensorSpec(List<Integer> shape, String dtype, Double scale, Integer zeroPoint) {
        this.shape = Collections.unmodifiableList(new ArrayList<>(shape));
        this.dtype = dtype;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
    }

    static TensorSpec fromJson(Object v, String what) {
        Map<String, Object> m = Json.obj(v, what);
        List<Integer> shape = new ArrayList<>();
        for (Object d : Json.arr(Json.get(m, "shape", what), what + ".shape")) {
            shape.add((int) Json.integer(d, what + ".shape"));
        }
        String dtype = Json.str(Json.get(m, "dtype", what), what + ".dtype");
        Object s = m.get("scale"), z = m.get("zero_point");
        Double scale = s == null ? null : Json.num(s, what + ".scale");
        Integer zero = z == null ? null : (int) Json.integer(z, what + ".zero_point");
        if ((scale == null) != (zero == null)) {
            throw new Json.JsonException(what + ": scale and zero_point must both be set or both be null");
        }
        if (scale != null && !(scale > 0)) {
            throw new Json.JsonException(what + ": scale must be positive, got " + scale);
        }
        return new TensorSpec(shape, dtype, scale, zero);
    }

    public boolean isQuantized() {
        return scale != null;
    }

    public int numElements() {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** Float value of a quantised integer (int8/uint8 already widened to int): {@code (q - zero_point) * scale}, in float32. */
    public float dequantize(int q) {
        if (!isQuantized()) {
            throw new IllegalStateException("tensor is not quantised (dtype " + dtype + ")");
        }
        return (float) (q - zeroPoint) * scale.floatValue();
    }

    /** Dequantise a whole output buffer; bytes are read as signed for int8 and unsigned for uint8. */
    public float[] dequantize(byte[] raw) {
        boolean unsigned = "uint8".equals(dtype);
        float[] out = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            out[i] = dequantize(unsigned ? raw[i] & 0xFF : raw[i]);
        }
        return out;
    }

    /**
     * Quantise a float input the way TFLite's QUANTIZE op and the Python runtime do:
     * {@code clip(round_half_away_from_zero(x / scale) + zero_point, min, max)}, the division in float32.
     */
    public byte[] quantize(float[] x) {
        if (!isQuantized()) {
            throw new IllegalStateException("tensor is not quantised (dtype " + dtype + ")");
        }
        int lo, hi;
        if ("int8".equals(dtype)) {
            lo = -128;
            hi = 127;
        } else if ("uint8".equals(dtype)) {
            lo = 0;
            hi = 255;
        } else {
            throw new IllegalStateException("quantised dtype " + dtype + " is not supported (int8, uint8 are)");
        }
        float s = scale.floatValue(), z = zeroPoint;
        byte[] out = new byte[x.length];
        for (int i = 0; i < x.length; i++) {
            float d = x[i] / s;
            float v = Math.copySign((float) Math.floor(Math.abs(d) + 0.5f), d) + z;
            int q = v < lo ? lo : (v > hi ? hi : (int) v);
            out[i] = (byte) q;
        }
        return out;
    }
}
