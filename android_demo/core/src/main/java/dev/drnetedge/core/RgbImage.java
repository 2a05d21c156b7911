package dev.drnetedge.core;

/**
 * An 8-bit RGB image, rows top to bottom, pixels interleaved R,G,B (numpy's uint8 HWC layout).
 * Values are stored in a {@code byte[]}; read them with {@code & 0xFF}.
 */
public final class RgbImage {
    public final int width;
    public final int height;
    /** {@code width * height * 3} bytes, R,G,B per pixel. */
    public final byte[] data;

    public RgbImage(int width, int height, byte[] data) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (data.length != width * height * 3) {
            throw new IllegalArgumentException(
                    "expected " + (width * height * 3) + " bytes for " + width + "x" + height + " RGB, got " + data.length);
        }
        this.width = width;
        this.height = height;
        this.data = data;
    }

    /**
     * From packed ARGB pixels (Android's {@code Bitmap.getPixels}, Java's {@code BufferedImage.getRGB}):
     * {@code pixels[y * stride + x]}; alpha is ignored.
     */
    public static RgbImage fromArgb(int[] pixels, int width, int height) {
        return fromArgb(pixels, 0, width, width, height);
    }

    public static RgbImage fromArgb(int[] pixels, int offset, int stride, int width, int height) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (stride < width || offset < 0 || (long) offset + (long) stride * (height - 1) + width > pixels.length) {
            throw new IllegalArgumentException("pixel array too small for " + width + "x" + height);
        }
        byte[] out = new byte[width * height * 3];
        int o = 0;
        for (int y = 0; y < height; y++) {
            int row = offset + y * stride;
            for (int x = 0; x < width; x++) {
                int p = pixels[row + x];
                out[o++] = (byte) (p >> 16);
                out[o++] = (byte) (p >> 8);
                out[o++] = (byte) p;
            }
        }
        return new RgbImage(width, height, out);
    }

    /** Value (0..255) of channel {@code c} at pixel (x, y). */
    public int get(int x, int y, int c) {
        return data[(y * width + x) * 3 + c] & 0xFF;
    }

    /** A copy of the rectangle [left, left+w) x [top, top+h). */
    public RgbImage crop(int left, int top, int w, int h) {
        if (left < 0 || top < 0 || w <= 0 || h <= 0 || left + w > width || top + h > height) {
            throw new IllegalArgumentException(
                    "crop " + w + "x" + h + "+" + left + "+" + top + " outside " + width + "x" + height);
        }
        byte[] out = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            System.arraycopy(data, ((top + y) * width + left) * 3, out, y * w * 3, w * 3);
        }
        return new RgbImage(w, h, out);
    }
}
