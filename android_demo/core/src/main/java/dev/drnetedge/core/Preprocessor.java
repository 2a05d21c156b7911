package dev.drnetedge.core;

/**
 * The project's preprocessing rule (drnet_edge/data/preprocess.py), step for step:
 *
 * <ol>
 *   <li>decoded RGB pixels (the caller decodes; Android: {@code Bitmap.getPixels} ARGB);</li>
 *   <li>the centred square of side {@code round(crop_pct * short side)} (Python's round: half to even),
 *       {@code top = (h - side) / 2}, {@code left = (w - side) / 2};</li>
 *   <li>when that side is more than {@code 2R}: the integer factor {@code k = ceil(side / 2R)}, the centred
 *       {@code side - side % k} square, OpenCV INTER_AREA by {@code k} (a {@code k x k} box average); then the
 *       manifest's interpolation (OpenCV INTER_CUBIC) to {@code R x R};</li>
 *   <li>{@code x / 255}, minus mean, divided by std, in float32; NCHW layout.</li>
 * </ol>
 */
public final class Preprocessor {
    public final PreprocessSpec spec;

    public Preprocessor(PreprocessSpec spec) {
        this.spec = spec;
    }

    /** Side of the centre square: {@code max(1, round_half_even(min(h, w) * crop_pct))}. */
    public static int cropSide(int width, int height, double cropPct) {
        return Math.max(1, (int) Math.rint(Math.min(width, height) * cropPct));
    }

    /** The centred square of side {@link #cropSide}. */
    public RgbImage centerCrop(RgbImage img) {
        int side = cropSide(img.width, img.height, spec.cropPct);
        int top = (img.height - side) / 2, left = (img.width - side) / 2;
        return img.crop(left, top, side, side);
    }

    /** The integer area pre-shrink factor: 1 up to {@code 2 size}, else {@code ceil(side / 2 size)}. */
    public static int preshrinkFactor(int side, int size) {
        return side <= 2 * size ? 1 : (side + 2 * size - 1) / (2 * size);
    }

    /** Step 3's pre-shrink: the centred square of side {@code side - side % k}, box-averaged by {@code k}. */
    public static RgbImage preshrink(RgbImage square, int size) {
        int side = Math.min(square.width, square.height);
        int k = preshrinkFactor(side, size);
        if (k == 1) {
            return square;
        }
        int keep = side - side % k;
        RgbImage s = square.crop((square.width - keep) / 2, (square.height - keep) / 2, keep, keep);
        return OpenCvResize.area(s, keep / k, keep / k);
    }

    /** Resize (a square) to {@code size x size}: {@link #preshrink}, then the manifest's interpolation. */
    public RgbImage resize(RgbImage square, int size) {
        RgbImage s = preshrink(square, size);
        if ("area".equals(spec.interpolation)) {
            if (s.width < size || s.height < size) {
                throw new IllegalArgumentException("INTER_AREA enlargement is not implemented");
            }
            return OpenCvResize.area(s, size, size);
        }
        return OpenCvResize.cubic(s, size, size);
    }

    /** One pixel value normalised in float32, as torch does: uint8 -&gt; float32, div_(255.0), sub mean, div std. */
    private static float normalise(int v, float mean, float std) {
        return (v / 255.0f - mean) / std;
    }

    /** uint8 HWC RGB -&gt; normalised float32 NCHW ({@code 3 * h * w} values). */
    public float[] toNchw(RgbImage img) {
        final int hw = img.width * img.height;
        float[] out = new float[3 * hw];
        toNchw(img, out);
        return out;
    }

    /** As {@link #toNchw(RgbImage)}, into a caller-owned buffer (reused between images on the phone). */
    public void toNchw(RgbImage img, float[] out) {
        final int hw = img.width * img.height;
        if (out.length != 3 * hw) {
            throw new IllegalArgumentException("buffer holds " + out.length + " floats, need " + (3 * hw));
        }
        final byte[] d = img.data;
        for (int c = 0; c < 3; c++) {
            final float m = spec.mean[c], s = spec.std[c];
            final int base = c * hw;
            for (int i = 0; i < hw; i++) {
                out[base + i] = normalise(d[i * 3 + c] & 0xFF, m, s);
            }
        }
    }

    /**
     * The table that takes a pixel straight to a quantised model input (int8 / uint8 TFLite models): entry
     * {@code c * 256 + v} is value {@code v} of channel {@code c} normalised exactly as {@link #toNchw} does, then
     * quantised by {@link TensorSpec#quantize}, so {@link #toQuantizedNchw} gives the very bytes of
     * {@code input.quantize(toNchw(img))} without a float buffer. Python: {@code drnet_edge.data.preprocess.input_lut}.
     */
    public byte[] inputTable(TensorSpec input) {
        if (!input.isQuantized()) {
            throw new IllegalArgumentException("input dtype " + input.dtype + " is not quantised: use toNchw");
        }
        float[] norm = new float[256];
        byte[] table = new byte[3 * 256];
        for (int c = 0; c < 3; c++) {
            final float m = spec.mean[c], s = spec.std[c];
            for (int v = 0; v < 256; v++) {
                norm[v] = normalise(v, m, s);
            }
            System.arraycopy(input.quantize(norm), 0, table, c * 256, 256);
        }
        return table;
    }

    /** uint8 HWC RGB -&gt; the model's quantised NCHW input, one table lookup per byte ({@link #inputTable}). */
    public byte[] toQuantizedNchw(RgbImage img, byte[] table) {
        final int hw = img.width * img.height;
        if (table.length != 3 * 256) {
            throw new IllegalArgumentException("input table holds " + table.length + " bytes, need 768");
        }
        final byte[] d = img.data;
        final byte[] out = new byte[3 * hw];
        for (int c = 0; c < 3; c++) {
            final int base = c * hw, t = c * 256;
            for (int i = 0; i < hw; i++) {
                out[base + i] = table[t + (d[i * 3 + c] & 0xFF)];
            }
        }
        return out;
    }

    /** Crop, resize and normalise in one call (one resolution). */
    public float[] prepare(RgbImage decoded, int size) {
        return toNchw(resize(centerCrop(decoded), size));
    }
}
