package dev.drnetedge.core;

/**
 * One model invocation on one image. The app implements it with the LiteRT Interpreter (quantising inputs and
 * dequantising outputs of int8 models with {@link TensorSpec}); tests implement it with plain Java.
 */
public interface ModelRunner extends AutoCloseable {
    /** Run on a normalised float32 NCHW image ({@code 3 * size * size} values); return float32 logits. */
    float[] run(float[] nchw) throws Exception;

    /** Release native resources; nothing by default. */
    @Override
    default void close() {}
}
