package dev.drnetedge.core;

/**
 * The project's preprocessing rule (drnet_edge/preprocess.py), step for step:
 *
 * <ol>
 *   <li>decoded RGB pixels (the caller decodes; Android: {@code Bitmap.getPixels} ARGB);</li>
 *   <li>the centred square of side {@code round(crop_pct * short side)} (Python's round: half to even),
 *       {@code top = (h - side) / 2}, {@code left = (w - side) / 2};</li>
 *   <li>when that side is more than {@code 2R}: OpenCV INTER_AREA to {@code 2R x 2R}; then the manifest's
 *       interpolation (OpenCV INTER_CUBIC) to {@code R x R};</li>
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

    /** Resize (a square) to {@code size x size}: area pre-shrink to {@code 2 size} when more than twice as large. */
    public RgbImage resize(RgbImage square, int size) {
        RgbImage s = square;
        if (Math.min(s.width, s.height) > 2 * size) {
            s = OpenCvResize.area(s, 2 * size, 2 * size);
        }
        if ("area".equals(spec.interpolation)) {
            if (s.width < size || s.height < size) {
                throw new IllegalArgumentException("INTER_AREA enlargement is not implemented");
            }
            return OpenCvResize.area(s, size, size);
        }
        return OpenCvResize.cubic(s, size, size);
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
                float x = (d[i * 3 + c] & 0xFF) / 255.0f; // torch: uint8 -> float32, div_(255.0)
                out[base + i] = (x - m) / s;
            }
        }
    }

    /** Crop, resize and normalise in one call (one resolution). */
    public float[] prepare(RgbImage decoded, int size) {
        return toNchw(resize(centerCrop(decoded), size));
    }
}
