package dev.drnetedge.demo

import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.net.Uri
import android.os.Bundle
import android.widget.Button
import android.widget.ImageView
import android.widget.Switch
import android.widget.TextView
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContracts
import dev.drnetedge.core.DrnetEngine
import dev.drnetedge.core.Prediction
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Pick a photo (gallery or camera), run predictor -> resize -> backbone, show the top-5 labels, the chosen
 * resolution and the time of each stage; the compare switch also runs the fixed largest resolution.
 */
class MainActivity : ComponentActivity() {
    private val worker: ExecutorService = Executors.newSingleThreadExecutor()
    private var pipeline: DrnetPipeline? = null
    private lateinit var imageView: ImageView
    private lateinit var result: TextView
    private lateinit var compare: Switch

    private val pickImage = registerForActivityResult(ActivityResultContracts.GetContent()) { uri: Uri? ->
        uri?.let { classifyUri(it) }
    }

    private val takePicture = registerForActivityResult(ActivityResultContracts.TakePicturePreview()) { bmp: Bitmap? ->
        bmp?.let { classify(it, "camera preview (${it.width}x${it.height})") }
    }

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        imageView = findViewById(R.id.image)
        result = findViewById(R.id.result)
        compare = findViewById(R.id.compare)
        findViewById<Button>(R.id.gallery).setOnClickListener { pickImage.launch("image/*") }
        findViewById<Button>(R.id.camera).setOnClickListener { takePicture.launch(null) }
        worker.execute {
            val text = try {
                val p = DrnetPipeline.fromAssets(this, threads = 4)
                pipeline = p
                val m = p.manifest
                "Loaded ${m.sourceModel} (${m.precision}, ${m.target}), resolutions ${m.resolutions}, " +
                    "predictor ${m.predictorInput} px, ${p.threads} threads.\nPick a photo."
            } catch (e: Exception) {
                "Could not load the models: ${e.message}"
            }
            runOnUiThread { result.text = text }
        }
    }

    override fun onDestroy() {
        worker.execute { pipeline?.close() }
        worker.shutdown()
        super.onDestroy()
    }

    private fun classifyUri(uri: Uri) {
        val bmp = try {
            decodeUri(uri)
        } catch (e: Exception) {
            result.text = "Could not decode the image: ${e.message}"
            return
        }
        classify(bmp, "gallery (${bmp.width}x${bmp.height})")
    }

    /**
     * Decode a gallery image. Very large photos are subsampled by a power of two while the short side stays at
     * least 1024 px, far above 2 x the largest resolution, to bound memory; the bench decodes at full size.
     * BitmapFactory ignores EXIF orientation, whereas cv2.imdecode applies it: a rotated camera JPEG is seen
     * rotated here (see README, "What was verified").
     */
    private fun decodeUri(uri: Uri): Bitmap {
        val bounds = BitmapFactory.Options().apply { inJustDecodeBounds = true }
        contentResolver.openInputStream(uri).use { BitmapFactory.decodeStream(it, null, bounds) }
        var sample = 1
        while (minOf(bounds.outWidth, bounds.outHeight) / (sample * 2) >= 1024) sample *= 2
        val opts = BitmapFactory.Options().apply {
            inSampleSize = sample
            inPreferredConfig = Bitmap.Config.ARGB_8888
        }
        return contentResolver.openInputStream(uri).use { BitmapFactory.decodeStream(it, null, opts) }
            ?: throw IllegalArgumentException("not an image")
    }

    private fun classify(bitmap: Bitmap, source: String) {
        imageView.setImageBitmap(bitmap)
        val p = pipeline
        if (p == null) {
            result.text = "Models are not loaded yet."
            return
        }
        result.text = "Running…"
        val withCompare = compare.isChecked
        worker.execute {
            val text = try {
                val rgb = DrnetPipeline.toRgb(bitmap)
                val engine = p.engine
                val drnet = engine.classify(rgb, DrnetEngine.DRNET, 5)
                val sb = StringBuilder()
                sb.append("Source: ").append(source).append('\n')
                sb.append(describe(p, drnet))
                if (withCompare) {
                    val largest = p.manifest.largestResolution()
                    val fixed = engine.classify(rgb, DrnetEngine.fixedPolicy(largest), 5)
                    sb.append("\n").append(describe(p, fixed))
                    sb.append(
                        String.format(
                            Locale.US, "\nDRNet vs fixed-%d: %.1f ms vs %.1f ms, same top-1: %s\n",
                            largest, drnet.totalMs, fixed.totalMs,
                            if (drnet.top[0].index == fixed.top[0].index) "yes" else "no",
                        ),
                    )
                }
                sb.toString()
            } catch (e: Exception) {
                "Failed: ${e.message}"
            }
            runOnUiThread { result.text = text }
        }
    }

    private fun describe(p: DrnetPipeline, r: DrnetEngine.Result): String {
        val sb = StringBuilder()
        val title = if (r.policy == DrnetEngine.DRNET) "DRNet: chose ${r.resolution} px" else "Fixed ${r.resolution} px"
        sb.append("== ").append(title).append(" ==\n")
        r.predictorLogits?.let { logits ->
            sb.append("predictor scores: ")
            p.manifest.resolutions.forEachIndexed { i, res ->
                sb.append(String.format(Locale.US, "%d:%.2f ", res, logits[i]))
            }
            sb.append('\n')
        }
        val probs = Prediction.softmaxAt(r.logits, r.top.map { it.index }.toIntArray())
        r.top.forEachIndexed { i, pred ->
            sb.append(String.format(Locale.US, "%d. %-28s %5.1f%%  (logit %.2f)\n", i + 1, pred.label, 100 * probs[i], pred.score))
        }
        sb.append(String.format(Locale.US, "crop %.2f ms", r.cropMs))
        if (r.resizeMs.size == 2) {
            sb.append(String.format(Locale.US, ", thumbnail %.2f ms, predictor %.2f ms", r.resizeMs[0], r.predictorMs))
        }
        sb.append(
            String.format(
                Locale.US, ", resize %.2f ms, backbone_%d %.2f ms, total %.2f ms (decode excluded)\n",
                r.resizeMs.last(), r.resolution, r.backboneMs, r.totalMs,
            ),
        )
        return sb.toString()
    }
}
