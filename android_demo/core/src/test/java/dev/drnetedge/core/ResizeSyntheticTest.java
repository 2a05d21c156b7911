package dev.drnetedge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Direct cv2.resize cases on random images: INTER_AREA must be bit-exact, INTER_CUBIC within 1 level. */
class ResizeSyntheticTest {
    @Test
    void matchesCv2Resize() {
        for (Object o : Json.arr(Golden.json().get("resize_cases"), "resize_cases")) {
            Map<String, Object> c = Json.obj(o, "case");
            RgbImage in = Golden.png(Json.str(c.get("input"), "input"));
            RgbImage expected = Golden.png(Json.str(c.get("output"), "output"));
            int w = (int) Json.integer(c.get("width"), "w"), h = (int) Json.integer(c.get("height"), "h");
            String interp = Json.str(c.get("interpolation"), "interpolation");
            RgbImage got = "area".equals(interp) ? OpenCvResize.area(in, w, h) : OpenCvResize.cubic(in, w, h);
            double[] d = Golden.diff(got, expected);
            String what = c.get("output") + ": max " + d[0] + " mean " + d[1];
            if ("area".equals(interp)) {
                assertEquals(0.0, d[0], what);
            } else {
                assertTrue(d[0] <= 1 && d[1] < 0.01, what);
            }
        }
    }

    @Test
    void sameSizeIsACopy() {
        byte[] px = new byte[4 * 3 * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 7);
        }
        RgbImage img = new RgbImage(4, 3, px);
        assertEquals(0.0, Golden.diff(OpenCvResize.cubic(img, 4, 3), img)[0]);
        assertEquals(0.0, Golden.diff(OpenCvResize.area(img, 4, 3), img)[0]);
    }

    @Test
    void constantImageStaysConstant() {
        byte[] px = new byte[37 * 23 * 3];
        java.util.Arrays.fill(px, (byte) 200);
        RgbImage img = new RgbImage(37, 23, px);
        for (RgbImage r : new RgbImage[] {OpenCvResize.cubic(img, 64, 50), OpenCvResize.cubic(img, 11, 9),
                OpenCvResize.cubicFixedPoint(img, 16, 16), OpenCvResize.area(img, 10, 7)}) {
            for (byte b : r.data) {
                assertEquals(200, b & 0xFF);
            }
        }
    }
}
