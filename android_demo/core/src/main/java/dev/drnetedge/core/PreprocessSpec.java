package dev.drnetedge.core;

import java.util.List;
import java.util.Map;

/** The manifest's {@code preprocess} block. */
public final class PreprocessSpec {
    public final float[] mean;
    public final float[] std;
    public final double cropPct;
    /** "cubic" or "area" (the interpolations implemented here). */
    public final String interpolation;

    public PreprocessSpec(float[] mean, float[] std, double cropPct, String interpolation) {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values");
        }
        if (!(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("crop_pct must be in (0, 1], got " + cropPct);
        }
        if (!"cubic".equals(interpolation) && !"area".equals(interpolation)) {
            throw new IllegalArgumentException("interpolation \"" + interpolation
                    + "\" is not implemented in the app (cubic and area are)");
        }
        this.mean = mean.clone();
        this.std = std.clone();
        this.cropPct = cropPct;
        this.interpolation = interpolation;
    }

    static PreprocessSpec fromJson(Object v) {
        Map<String, Object> m = Json.obj(v, "preprocess");
        Object layout = m.get("layout");
        if (layout != null && !"NCHW".equals(layout)) {
            throw new Json.JsonException("preprocess.layout " + layout + " is not supported (NCHW is)");
        }
        return new PreprocessSpec(
                floats(Json.get(m, "mean", "preprocess"), "preprocess.mean"),
                floats(Json.get(m, "std", "preprocess"), "preprocess.std"),
                m.get("crop_pct") == null ? 0.875 : Json.num(m.get("crop_pct"), "preprocess.crop_pct"),
                m.get("interpolation") == null ? "cubic" : Json.str(m.get("interpolation"), "preprocess.interpolation"));
    }

    private static float[] floats(Object v, String what) {
        List<Object> l = Json.arr(v, what);
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Json.num(l.get(i), what); // Python: torch.tensor(mean, dtype=float32)
        }
        return out;
    }
}
