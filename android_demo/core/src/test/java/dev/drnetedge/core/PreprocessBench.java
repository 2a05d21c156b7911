package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * What the core's preprocessing costs per resolution on this JVM (run by android_demo/bench-preprocess.sh, not a
 * test): centre crop + resize, then either the float path of an int8 model before the pixel table (normalise to
 * float32 NCHW, then quantise: what LiteRtRunner.run did) or the table ({@link Preprocessor#toQuantizedNchw}).
 * Random pixels; the three variants interleaved per iteration; medians after warm-up. Prints one JSON object.
 */
public final class PreprocessBench {
    private PreprocessBench() {}

    private static double median(long[] v) {
        long[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e3;
    }

    public static void main(String[] args) {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 200, warmup = 300;
        PreprocessSpec spec = new PreprocessSpec(new float[] {0.5f, 0.5f, 0.5f}, new float[] {0.5f, 0.5f, 0.5f}, 0.875,
                "cubic");
        Preprocessor pre = new Preprocessor(spec);
        // onnx2tf's int8 input for lite0-imagenet (manifest): scale 1/127.5, zero point -1
        TensorSpec input = new TensorSpec(Arrays.asList(1, 3, 1, 1), "int8", 0.007843137718737125, -1);
        byte[] table = pre.inputTable(input);
        int[][] sources = {{426, 320}, {1920, 1080}};
        int[] sizes = {224, 192, 160, 128, 64};
        List<String> rows = new ArrayList<>();
        Random rnd = new Random(0);
        for (int[] src : sources) {
            byte[] px = new byte[src[0] * src[1] * 3];
            rnd.nextBytes(px);
            RgbImage photo = new RgbImage(src[0], src[1], px);
            for (int size : sizes) {
                long[] resize = new long[runs], floatQ = new long[runs], tab = new long[runs];
                for (int i = 0; i < warmup + runs; i++) {
                    long t0 = System.nanoTime();
                    RgbImage r = pre.resize(pre.centerCrop(photo), size);
                    long t1 = System.nanoTime();
                    byte[] a = input.quantize(pre.toNchw(r));
                    long t2 = System.nanoTime();
                    byte[] b = pre.toQuantizedNchw(r, table);
                    long t3 = System.nanoTime();
                    if (a.length != b.length) {
                        throw new AssertionError("lengths differ");
                    }
                    if (i >= warmup) {
                        resize[i - warmup] = t1 - t0;
                        floatQ[i - warmup] = t2 - t1;
                        tab[i - warmup] = t3 - t2;
                    }
                }
                rows.add(String.format(Locale.ROOT,
                        "{\"source\": \"%dx%d\", \"size\": %d, \"crop_resize_us\": %.1f, \"float_then_quantize_us\": %.1f,"
                                + " \"table_us\": %.1f}",
                        src[0], src[1], size, median(resize), median(floatQ), median(tab)));
            }
        }
        System.out.println("{\"runs\": " + runs + ", \"warmup\": " + warmup + ", \"java\": \""
                + System.getProperty("java.version") + "\", \"rows\": [\n  " + String.join(",\n  ", rows) + "\n]}");
    }
}
