package dev.drnetedge.demo

import android.app.Activity
import android.os.Build
import android.os.Bundle
import android.os.Debug
import android.util.Log
import android.view.WindowManager
import android.widget.TextView
import dev.drnetedge.core.BenchRunner
import dev.drnetedge.core.Delegate
import dev.drnetedge.core.RgbImage
import java.io.File
import java.util.LinkedHashMap

/**
 * Headless benchmark, started over adb:
 *
 *     adb shell am start -n dev.drnetedge.demo/.BenchActivity \
 *         --es images /data/local/tmp/drnet-edge/images --es out results.json \
 *         --ei threads 4 --ei runs 1 --ei warmup 3 [--es policies cascade-160:0.7-224,drnet-escalate:0.6] \
 *         [--es delegate cpu|gpu|nnapi]
 *
 * Runs every image of the folder (and of its class sub-folders, named by class id such as a wnid, which gives
 * top-1) through the manifest's default policy, "drnet" (when there is a predictor), every "fixed-R" policy and
 * any extra ones named in `policies` (comma-separated); times crop + resize(s) + predictor + every backbone pass
 * per image (decoding excluded); writes the JSON (schema in README) atomically to
 * getExternalFilesDir(null)/<out>, then the marker <out>.done (or <out>.failed with the error), and finishes.
 * A relative `images` path is taken under getExternalFilesDir(null). Progress: logcat tag "DrnetBench".
 * The JSON also holds "delegate" (asked, per model file what it got: a refusing delegate loads the model on the
 * CPU, see core Delegate) and "startup" (the time to load every model and the PSS before and after).
 */
class BenchActivity : Activity() {
    private lateinit var status: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        window.addFlags(WindowManager.LayoutParams.FLAG_KEEP_SCREEN_ON)
        status = TextView(this).apply { setPadding(32, 32, 32, 32) }
        setContentView(status)

        val outDir = getExternalFilesDir(null) ?: filesDir
        val imagesArg = intent.getStringExtra("images") ?: "images"
        val images = File(imagesArg).let { if (it.isAbsolute) it else File(outDir, imagesArg) }
        val outName = intent.getStringExtra("out") ?: "results.json"
        val threads = intent.getIntExtra("threads", 4)
        val runs = intent.getIntExtra("runs", 1)
        val warmup = intent.getIntExtra("warmup", 3)
        val extraPolicies = (intent.getStringExtra("policies") ?: "").split(',').map { it.trim() }.filter { it.isNotEmpty() }
        val delegateArg = intent.getStringExtra("delegate")
        val out = File(outDir, outName)

        show("DRNet bench: $images -> $out, threads $threads, runs $runs, warmup $warmup, delegate ${delegateArg ?: "cpu"}")
        Thread({ runBench(images, out, threads, runs, warmup, extraPolicies, delegateArg) }, "DrnetBench").start()
    }

    private fun show(message: String) {
        Log.i(TAG, message)
        runOnUiThread { status.append(message + "\n") }
    }

    private fun runBench(
        imagesDir: File, out: File, threads: Int, runs: Int, warmup: Int, extraPolicies: List<String>, delegateArg: String?,
    ) {
        File(out.path + ".done").delete()
        File(out.path + ".failed").delete()
        try {
            val delegate = Delegate.parse(delegateArg)
            val pssBefore = Debug.getPss()
            val t0 = System.nanoTime()
            val loaded = DrnetPipeline.fromAssets(this, threads, extraPolicies, delegate)
            val loadAllMs = (System.nanoTime() - t0) / 1e6
            val pssAfter = Debug.getPss()
            loaded.use { pipeline ->
                val m = pipeline.manifest
                val files = listImages(imagesDir)
                require(files.isNotEmpty()) { "no images in $imagesDir (is it readable by the app?)" }
                show(
                    "${files.size} images, default policy ${pipeline.engine.defaultPolicy().name}, " +
                        "policies ${pipeline.engine.policies()}, ${m.precision} models (manifest v${m.version})",
                )
                val source = object : BenchRunner.ImageSource {
                    override fun size() = files.size
                    override fun name(i: Int): String = files[i].path
                    override fun label(i: Int): Int {
                        val parent = files[i].parentFile
                        return if (parent == null || parent == imagesDir) -1 else BenchRunner.labelFromFolder(m, parent.name)
                    }
                    override fun load(i: Int): RgbImage {
                        val bmp = DrnetPipeline.decodeFile(files[i].path)
                        try {
                            return DrnetPipeline.toRgb(bmp)
                        } finally {
                            bmp.recycle()
                        }
                    }
                }
                val recorder = BenchRunner.run(pipeline.engine, source, runs, warmup) { show(it) }
                val device = LinkedHashMap<String, Any?>()
                device["model"] = Build.MODEL
                device["sdk"] = Build.VERSION.SDK_INT
                device["manufacturer"] = Build.MANUFACTURER
                device["soc"] = if (Build.VERSION.SDK_INT >= 31) Build.SOC_MODEL else null
                device["abi"] = Build.SUPPORTED_ABIS.firstOrNull()
                val extra = LinkedHashMap<String, Any?>()
                BenchRunner.putRunInfo(extra, m, runs, warmup)
                extra["delegate"] = Delegate.summary(delegate, pipeline.delegates)
                extra["startup"] = Delegate.startup(pipeline.delegates.keys.toList(), loadAllMs, pssBefore, pssAfter)
                val json = recorder.toJson(device, threads, files.size, extra)
                writeAtomically(out, json)
                writeAtomically(File(out.path + ".done"), "ok\n")
                show("wrote $out")
            }
        } catch (e: Throwable) {
            Log.e(TAG, "bench failed", e)
            show("FAILED: $e")
            try {
                writeAtomically(File(out.path + ".failed"), "$e\n")
            } catch (ignored: Exception) {
            }
        }
        runOnUiThread { finish() }
    }

    private fun listImages(dir: File): List<File> {
        val exts = setOf("jpg", "jpeg", "png", "bmp", "webp")
        val top = dir.listFiles() ?: return emptyList()
        val out = ArrayList<File>()
        for (f in top.sortedBy { it.name }) {
            if (f.isDirectory) {
                f.listFiles()?.filter { it.isFile && it.extension.lowercase() in exts }?.sortedBy { it.name }?.let(out::addAll)
            } else if (f.extension.lowercase() in exts) {
                out.add(f)
            }
        }
        return out
    }

    private fun writeAtomically(target: File, text: String) {
        val tmp = File(target.parentFile, target.name + ".tmp")
        tmp.writeText(text)
        if (!tmp.renameTo(target)) {
            target.delete()
            check(tmp.renameTo(target)) { "cannot rename $tmp to $target" }
        }
    }

    companion object {
        const val TAG = "DrnetBench"
    }
}
