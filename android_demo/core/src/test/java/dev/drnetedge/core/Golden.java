package dev.drnetedge.core;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Test helper: the golden vectors written by android_demo/make_golden.py (on the test classpath under /golden). */
final class Golden {
    private Golden() {}

    static byte[] bytes(String name) {
        try (InputStream in = Golden.class.getResourceAsStream("/golden/" + name)) {
            if (in == null) {
                throw new IllegalStateException("golden file " + name
                        + " not on the classpath; run android_demo/make_golden.py");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static String text(String name) {
        return new String(bytes(name), StandardCharsets.UTF_8);
    }

    private static Map<String, Object> golden;

    static synchronized Map<String, Object> json() {
        if (golden == null) {
            golden = Json.parseObject(text("golden.json"));
        }
        return golden;
    }

    static List<Object> images() {
        return Json.arr(json().get("images"), "images");
    }

    static Manifest manifest() {
        return Manifest.parse(text(Json.str(json().get("manifest"), "manifest")), "tflite");
    }

    /** Decode a PNG with javax.imageio into ARGB ints, then into the core's RgbImage (as the app does with getPixels). */
    static RgbImage png(String name) {
        try {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes(name)));
            int w = img.getWidth(), h = img.getHeight();
            int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
            return RgbImage.fromArgb(argb, w, h);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static float[] f32(String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes(name)).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    static String sha256(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return sha256(b.array());
    }

    static String sha256(byte[] raw) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(raw);
            StringBuilder sb = new StringBuilder();
            for (byte x : d) {
                sb.append(String.format("%02x", x & 0xFF));
            }
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Max and mean absolute difference of two images of the same size. */
    static double[] diff(RgbImage a, RgbImage b) {
        if (a.width != b.width || a.height != b.height) {
            throw new AssertionError("sizes differ: " + a.width + "x" + a.height + " vs " + b.width + "x" + b.height);
        }
        int max = 0;
        long sum = 0;
        for (int i = 0; i < a.data.length; i++) {
            int d = Math.abs((a.data[i] & 0xFF) - (b.data[i] & 0xFF));
            max = Math.max(max, d);
            sum += d;
        }
        return new double[] {max, sum / (double) a.data.length, a.data.length};
    }
}
