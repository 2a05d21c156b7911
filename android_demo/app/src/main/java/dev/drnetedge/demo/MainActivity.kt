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
import dev.drnetedge.core.PolicySpec
import dev.drnetedge.core.Prediction
import java.util.Locale
import java.util.concurrent.ExecutorService
import java.util.concurrent.Executors

/**
 * Pick a photo (gallery or camera), run the manifest's default policy (a calibrated cascade, the predictor's
 * choice with or without escalation, or a fixed resolution), show the top-5 labels, the resolution(s) that ran,
 * whether the image escalated, and the time of each stage; the compare switch also runs the fixed largest
 * resolution.
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
                val policy = m.defaultPolicy
                val origin = when (m.policySource) {
                    null -> "no policy in the manifest (v${m.version})"
                    "policy" -> "from the manifest, calibrated on the checkpoint"
                    else -> "from the manifest's ${m.policySource}, calibrated on these files"
                }
                "Loaded ${m.sourceModel} (${m.precision}, ${m.target}), resolutions ${m.resolutions}, " +
                    (if (m.hasPredictor()) "predictor ${m.predictorInput} px" else "no predictor") +
                    ", ${p.threads} threads.\nDefault policy: ${policy.name} ($origin).\nPick a photo."
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
                val chosen = engine.classifyDefault(rgb, 5)
                val sb = StringBuilder()
                sb.append("Source: ").append(source).append('\n')
                sb.append(describe(p, chosen))
                if (withCompare) {
                    val largest = p.manifest.largestResolution()
                    val fixed = engine.classify(rgb, DrnetEngine.fixedPolicy(largest), 5)
                    sb.append("\n").append(describe(p, fixed))
                    sb.append(
                        String.format(
                            Locale.US, "\n%s vs fixed-%d: %.1f ms vs %.1f ms, %.0f M vs %.0f M MACs, same top-1: %s\n",
                            chosen.policy, largest, chosen.totalMs, fixed.totalMs, chosen.macs / 1e6, fixed.macs / 1e6,
                            if (chosen.top[0].index == fixed.top[0].index) "yes" else "no",
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
        val isDefault = r.policy == p.engine.defaultPolicy().name
        sb.append("== ").append(r.policy).append(if (isDefault) " (default policy)" else "").append(" ==\n")
        sb.append("ran ").append(r.ranResolutions.joinToString(" -> ") { "$it px" })
        sb.append(if (r.escalated()) ", escalated" else if (r.spec.multiPass()) ", not escalated" else "")
        sb.append(", answered at ${r.resolution} px\n")
        if (r.spec.multiPass()) {
            sb.append("max softmax per pass: ")
            r.ranResolutions.forEachIndexed { i, res -> sb.append(String.format(Locale.US, "%d:%.3f ", res, r.maxSoftmax[i])) }
            when (r.spec.kind) {
                PolicySpec.Kind.CASCADE -> sb.append("(thresholds ${r.spec.thresholds})")
                PolicySpec.Kind.DRNET_ESCALATE -> sb.append(String.format(Locale.US, "(threshold %.3g)", r.spec.threshold))
                else -> {}
            }
            sb.append('\n')
        }
        r.predictorLogits?.let { logits ->
            sb.append("predictor chose ${p.manifest.resolutions[r.predictorChoice]} px; scores: ")
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
        var resize = 0
        if (r.usedPredictor()) {
            sb.append(String.format(Locale.US, ", thumbnail %.2f ms, predictor %.2f ms", r.resizeMs[0], r.predictorMs))
            resize = 1
        }
        r.ranResolutions.forEachIndexed { i, res ->
            sb.append(
                String.format(
                    Locale.US, ", resize %.2f ms, backbone_%d %.2f ms", r.resizeMs[resize + i], res, r.backbonePassMs[i],
                ),
            )
        }
        sb.append(String.format(Locale.US, ", total %.2f ms (decode excluded), %.0f M MACs\n", r.totalMs, r.macs / 1e6))
        return sb.toString()
    }
}
