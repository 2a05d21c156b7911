package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Crop + resize + normalisation against Python's drnet_edge.data.preprocess (cv2 + torch) on the golden photos.
 *
 * <p>Tolerance: the uint8 crops may differ by at most 1 level (max abs diff &lt;= 1) with a mean abs diff
 * below 0.001 per value. Measured when the golden files were made (opencv-python 5.0.0 with IPP, x86-64):
 * max 1, mean about 3e-5 (a few values in 200,000). The area pre-shrink step alone is bit-exact. Normalising
 * the golden uint8 crop must reproduce the float32 tensor's sha256 exactly.
 */
class PreprocessGoldenTest {
    static final int MAX_ABS = 1;
    static final double MAX_MEAN = 1e-3;
    /** OpenCV's own fixed-point cubic (builds without IPP) against the IPP-made golden crops. */
    static final double MAX_MEAN_FIXED_POINT = 0.1;

    @Test
    void cropGeometryMatches() {
        Manifest m = Golden.manifest();
        Preprocessor pre = new Preprocessor(m.preprocess);
        for (Object o : Golden.images()) {
            Map<String, Object> img = Json.obj(o, "image");
            RgbImage decoded = Golden.png(Json.str(img.get("decoded"), "decoded"));
            assertEquals(Json.integer(img.get("width"), "w"), decoded.width);
            assertEquals(Json.integer(img.get("height"), "h"), decoded.height);
            Map<String, Object> crop = Json.obj(img.get("crop"), "crop");
            int side = Preprocessor.cropSide(decoded.width, decoded.height, m.preprocess.cropPct);
            assertEquals(Json.integer(crop.get("side"), "side"), side);
            RgbImage sq = pre.centerCrop(decoded);
            int top = (int) Json.integer(crop.get("top"), "top"), left = (int) Json.integer(crop.get("left"), "left");
            assertEquals(side, sq.width);
            assertEquals(decoded.get(left, top, 0), sq.get(0, 0, 0));
            assertEquals(decoded.get(left + side - 1, top + side - 1, 2), sq.get(side - 1, side - 1, 2));
        }
    }

    @Test
    void cropAndResizeMatchPythonWithinTolerance() {
        Manifest m = Golden.manifest();
        Preprocessor pre = new Preprocessor(m.preprocess);
        double worstMax = 0, sumAbs = 0, n = 0, fixedWorstMax = 0, fixedSumAbs = 0;
        StringBuilder report = new StringBuilder();
        for (Object o : Golden.images()) {
            Map<String, Object> img = Json.obj(o, "image");
            RgbImage square = pre.centerCrop(Golden.png(Json.str(img.get("decoded"), "decoded")));
            for (Map.Entry<String, Object> e : Json.obj(img.get("sizes"), "sizes").entrySet()) {
                int size = Integer.parseInt(e.getKey());
                Map<String, Object> s = Json.obj(e.getValue(), "size");
                RgbImage expected = Golden.png(Json.str(s.get("png"), "png"));
                RgbImage got = pre.resize(square, size);
                double[] d = Golden.diff(got, expected);
                report.append(String.format("%s@%d max=%.0f mean=%.6f%n", img.get("name"), size, d[0], d[1]));
                assertTrue(d[0] <= MAX_ABS, img.get("name") + " at " + size + ": max abs diff " + d[0]);
                assertTrue(d[1] < MAX_MEAN, img.get("name") + " at " + size + ": mean abs diff " + d[1]);
                worstMax = Math.max(worstMax, d[0]);
                sumAbs += d[1] * d[2];
                n += d[2];
                assertEquals(((Number) Json.get(s, "preshrink_factor", "size")).intValue(),
                        Preprocessor.preshrinkFactor(square.width, size));

                // OpenCV's non-IPP fixed-point cubic: what an OpenCV build without IPP would give
                RgbImage src = Preprocessor.preshrink(square, size);
                double[] f = Golden.diff(OpenCvResize.cubicFixedPoint(src, size, size), expected);
                fixedWorstMax = Math.max(fixedWorstMax, f[0]);
                fixedSumAbs += f[1] * f[2];
                assertTrue(f[0] <= MAX_ABS && f[1] < MAX_MEAN_FIXED_POINT, "fixed-point cubic: " + f[0] + ", " + f[1]);
            }
        }
        System.out.print(report);
        System.out.printf("preprocessing vs Python golden crops: max abs diff %.0f, mean abs diff %.7f over %.0f values "
                + "(OpenCV fixed-point cubic: max %.0f, mean %.5f)%n", worstMax, sumAbs / n, n, fixedWorstMax,
                fixedSumAbs / n);
    }

    @Test
    void normalisationReproducesTensorSha256Exactly() {
        Manifest m = Golden.manifest();
        Preprocessor pre = new Preprocessor(m.preprocess);
        int checked = 0;
        for (Object o : Golden.images()) {
            Map<String, Object> img = Json.obj(o, "image");
            for (Map.Entry<String, Object> e : Json.obj(img.get("sizes"), "sizes").entrySet()) {
                Map<String, Object> s = Json.obj(e.getValue(), "size");
                RgbImage crop = Golden.png(Json.str(s.get("png"), "png"));
                int size = Integer.parseInt(e.getKey());
                assertEquals(size, crop.width);
                float[] x = pre.toNchw(crop);
                assertEquals(3 * size * size, x.length);
                assertEquals(Json.str(s.get("tensor_sha256"), "sha"), Golden.sha256(x),
                        img.get("name") + " at " + size);
                checked++;
            }
        }
        assertEquals(4 * 5, checked);
    }

    @Test
    void layoutIsNchwAndNormalisationIsPerChannel() {
        PreprocessSpec spec = new PreprocessSpec(new float[] {0.485f, 0.456f, 0.406f},
                new float[] {0.229f, 0.224f, 0.225f}, 0.875, "cubic");
        byte[] px = new byte[2 * 1 * 3];
        px[0] = (byte) 255; // pixel 0: R = 255
        px[4] = (byte) 128; // pixel 1: G = 128
        float[] x = new Preprocessor(spec).toNchw(new RgbImage(2, 1, px));
        assertEquals((1.0f - 0.485f) / 0.229f, x[0]); // R plane, pixel 0
        assertEquals((0f - 0.485f) / 0.229f, x[1]); // R plane, pixel 1
        assertEquals((128 / 255.0f - 0.456f) / 0.224f, x[3]); // G plane, pixel 1
        assertEquals((0f - 0.406f) / 0.225f, x[4]); // B plane
    }

    @Test
    void cropSideRoundsHalfToEvenLikePython() {
        assertEquals(158, Preprocessor.cropSide(240, 180, 0.875)); // 157.5 -> 158
        assertEquals(192, Preprocessor.cropSide(220, 300, 0.875)); // 192.5 -> 192 (Python round)
        assertEquals(1, Preprocessor.cropSide(1, 1, 0.1));
    }

    @Test
    void argbConversionIgnoresAlphaAndKeepsChannelOrder() {
        RgbImage img = RgbImage.fromArgb(new int[] {0x80112233, 0xFFAABBCC}, 2, 1);
        assertEquals(0x11, img.get(0, 0, 0));
        assertEquals(0x22, img.get(0, 0, 1));
        assertEquals(0x33, img.get(0, 0, 2));
        assertEquals(0xCC, img.get(1, 0, 2));
    }
}
