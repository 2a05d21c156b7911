package dev.drnetedge.demo

import android.content.Context
import android.graphics.Bitmap
import android.graphics.BitmapFactory
import dev.drnetedge.core.Delegate
import dev.drnetedge.core.DrnetEngine
import dev.drnetedge.core.Manifest
import dev.drnetedge.core.ModelInfo
import dev.drnetedge.core.ModelRunner
import dev.drnetedge.core.PolicySpec
import dev.drnetedge.core.RgbImage
import org.tensorflow.lite.Interpreter
import org.tensorflow.lite.gpu.GpuDelegate
import java.io.Closeable
import java.io.FileInputStream
import java.nio.ByteBuffer
import java.nio.ByteOrder
import java.nio.MappedByteBuffer
import java.nio.channels.FileChannel

/**
 * The converted DRNet (predictor + one backbone per resolution) on LiteRT's Interpreter API, CPU with XNNPACK
 * (LiteRT's default CPU delegate). Models and manifest come from assets/drnet/ (see README: `drnet-edge convert
 * --target tflite --out android_demo/app/src/main/assets/drnet`). All pipeline logic (preprocessing, the
 * policies and their decisions, labels, timing) lives in the plain-Java core ([DrnetEngine], which runs the
 * manifest's default policy); this class only runs the models. Backbones are addressed by resolution index.
 *
 * Not thread-safe: LiteRT interpreters must be used from one thread at a time. Use one background thread.
 */
class DrnetPipeline private constructor(
    val manifest: Manifest,
    private val interpreters: Map<String, Interpreter>,
    val engine: DrnetEngine,
    val threads: Int,
    /** Per model file, the delegate asked for and the one it got (a refusal loads it on the CPU). */
    val delegates: Map<String, Delegate.Loaded<Interpreter>> = emptyMap(),
    private val gpuDelegates: List<GpuDelegate> = emptyList(),
) : Closeable {

    override fun close() {
        interpreters.values.forEach { it.close() }
        gpuDelegates.forEach { it.close() }
    }

    companion object {
        const val ASSET_DIR = "drnet"

        /**
         * Load manifest.json and every model file (each distinct file once) from assets/drnet/. [extraPolicies]
         * are policy names to offer besides the default, "drnet" and the fixed resolutions (e.g.
         * "cascade-160:0.7-224", "drnet-escalate:0.6"); a name the models cannot run is refused.
         */
        fun fromAssets(
            context: Context,
            threads: Int,
            extraPolicies: List<String> = emptyList(),
            delegate: Delegate = Delegate.CPU,
        ): DrnetPipeline {
            val assets = context.assets
            val manifestText = try {
                assets.open("$ASSET_DIR/manifest.json").bufferedReader().use { it.readText() }
            } catch (e: java.io.IOException) {
                throw IllegalStateException(
                    "assets/$ASSET_DIR/manifest.json is missing: copy converted models into the app " +
                        "(drnet-edge convert --target tflite --out android_demo/app/src/main/assets/drnet)", e,
                )
            }
            val manifest = Manifest.parse(manifestText, "tflite")
            val gpuDelegates = ArrayList<GpuDelegate>()
            // The interpreter options of each delegate (the plain-Java core's Delegate: its choice and fallback).
            fun options(d: Delegate) = Interpreter.Options().apply {
                setNumThreads(threads)
                when (d) {
                    // XNNPACK is LiteRT's default CPU delegate; stated explicitly.
                    Delegate.CPU -> setUseXNNPACK(true)
                    Delegate.GPU -> addDelegate(GpuDelegate().also { gpuDelegates.add(it) })
                    // deprecated from Android 15 (Delegate.NNAPI_NOTE); still offered for older phones
                    Delegate.NNAPI -> setUseNNAPI(true)
                }
            }
            val interpreters = LinkedHashMap<String, Interpreter>()
            val delegates = LinkedHashMap<String, Delegate.Loaded<Interpreter>>()
            for (file in manifest.files()) {
                val model = mapAsset(context, "$ASSET_DIR/$file")
                // a delegate that refuses the model (Interpreter throws "Failed to apply delegate") -> the CPU
                val loaded = Delegate.load(delegate) { d -> Interpreter(model, options(d)) }
                delegates[file] = loaded
                interpreters[file] = loaded.value
            }
            val predictor = if (manifest.hasPredictor()) {
                LiteRtRunner(interpreters.getValue(manifest.predictor().file), manifest.predictor())
            } else {
                null
            }
            // one runner per resolution index, in the manifest's order
            val backbones: List<ModelRunner> = manifest.backbones.map { info ->
                LiteRtRunner(interpreters.getValue(info.file), info)
            }
            val extra: List<PolicySpec> = extraPolicies.map { manifest.policyNamed(it) }
            val engine = DrnetEngine(manifest, predictor, backbones, java.util.function.LongSupplier { System.nanoTime() }, extra)
            return DrnetPipeline(manifest, interpreters, engine, threads, delegates, gpuDelegates)
        }

        private fun mapAsset(context: Context, path: String): MappedByteBuffer {
            // Works because app/build.gradle.kts stores .tflite uncompressed (androidResources.noCompress).
            context.assets.openFd(path).use { fd ->
                FileInputStream(fd.fileDescriptor).use { stream ->
                    return stream.channel.map(FileChannel.MapMode.READ_ONLY, fd.startOffset, fd.declaredLength)
                }
            }
        }

        /** ARGB_8888 pixels of a bitmap as the core's RGB image (the same pixels Python's decoder would give). */
        fun toRgb(bitmap: Bitmap): RgbImage {
            val bmp = if (bitmap.config == Bitmap.Config.ARGB_8888) bitmap else bitmap.copy(Bitmap.Config.ARGB_8888, false)
            val pixels = IntArray(bmp.width * bmp.height)
            bmp.getPixels(pixels, 0, bmp.width, 0, 0, bmp.width, bmp.height)
            return RgbImage.fromArgb(pixels, bmp.width, bmp.height)
        }

        /** Decode a file at full size into software ARGB_8888 (the bench: no subsampling, so it matches Python). */
        fun decodeFile(path: String): Bitmap {
            val opts = BitmapFactory.Options().apply {
                inPreferredConfig = Bitmap.Config.ARGB_8888
                inScaled = false
            }
            return BitmapFactory.decodeFile(path, opts) ?: throw IllegalArgumentException("cannot decode $path")
        }
    }
}

/**
 * One model (or one signature of a shared-weight file) as a core [ModelRunner]: float32 logits out. An int8/uint8
 * model takes the integer input bytes the core builds straight from the pixels ([runQuantized]; the float path
 * quantises with the manifest's scale / zero point, the same bytes) and has its output dequantised.
 */
class LiteRtRunner(private val interpreter: Interpreter, private val info: ModelInfo) : ModelRunner {
    private val inCount = info.input.numElements()
    private val outCount = info.output.numElements()
    private val input: ByteBuffer =
        ByteBuffer.allocateDirect(inCount * bytesPerElement(info.input.dtype)).order(ByteOrder.nativeOrder())
    private val output: ByteBuffer =
        ByteBuffer.allocateDirect(outCount * bytesPerElement(info.output.dtype)).order(ByteOrder.nativeOrder())
    private val signature: String? = info.entry
    private val inName: String? = signature?.let { interpreter.getSignatureInputs(it).single() }
    private val outName: String? = signature?.let { interpreter.getSignatureOutputs(it).single() }

    override fun run(nchw: FloatArray): FloatArray {
        require(nchw.size == inCount) { "${info.name} takes $inCount values, got ${nchw.size}" }
        input.clear()
        if (info.input.isQuantized) {
            input.put(info.input.quantize(nchw))
        } else {
            input.asFloatBuffer().put(nchw)
        }
        return invoke()
    }

    /** int8/uint8 models: the core hands over the input bytes built straight from the pixels. */
    override fun takesQuantized(): Boolean = info.input.isQuantized

    override fun runQuantized(nchw: ByteArray): FloatArray {
        require(info.input.isQuantized) { "${info.name} takes float32 input" }
        require(nchw.size == inCount) { "${info.name} takes $inCount values, got ${nchw.size}" }
        input.clear()
        input.put(nchw)
        return invoke()
    }

    private fun invoke(): FloatArray {
        input.rewind()
        output.clear()
        if (signature != null) {
            interpreter.runSignature(mapOf(inName!! to input), mapOf(outName!! to output), signature)
        } else {
            interpreter.run(input, output)
        }
        output.rewind()
        return if (info.output.isQuantized) {
            val raw = ByteArray(outCount)
            output.get(raw)
            info.output.dequantize(raw)
        } else {
            FloatArray(outCount).also { output.asFloatBuffer().get(it) }
        }
    }

    private companion object {
        fun bytesPerElement(dtype: String): Int = when (dtype) {
            "float32" -> 4
            "int8", "uint8" -> 1
            else -> throw IllegalArgumentException("tensor dtype $dtype is not supported by the app")
        }
    }
}
