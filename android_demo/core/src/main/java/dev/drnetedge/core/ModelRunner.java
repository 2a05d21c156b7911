package dev.drnetedge.core;

/**
 * One model invocation on one image. The app implements it with the LiteRT Interpreter (quantising inputs and
 * dequantising outputs of int8 models with {@link TensorSpec}); tests implement it with plain Java.
 */
public interface ModelRunner extends AutoCloseable {
    /** Run on a normalised float32 NCHW image ({@code 3 * size * size} values); return float32 logits. */
    float[] run(float[] nchw) throws Exception;

    /**
     * Whether {@link #runQuantized} takes the model's own integer input (an int8 / uint8 model whose runner
     * fills its input tensor with the bytes as they are). Then the engine builds those bytes straight from the
     * pixels ({@link Preprocessor#toQuantizedNchw}) and skips the float buffer. False by default.
     */
    default boolean takesQuantized() {
        return false;
    }

    /** Run on the model's quantised NCHW input bytes (only called when {@link #takesQuantized} is true). */
    default float[] runQuantized(byte[] nchw) throws Exception {
        throw new UnsupportedOperationException("this runner takes float input only");
    }

    /** Release native resources; nothing by default. */
    @Override
    default void close() {}
}
