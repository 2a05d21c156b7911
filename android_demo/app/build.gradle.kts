plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "dev.drnetedge.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "dev.drnetedge.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1"
    }

    buildTypes {
        release {
            isMinifyEnabled = false
            // A benchmark build: debug-signed so it installs without a keystore.
            signingConfig = signingConfigs.getByName("debug")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    kotlinOptions {
        jvmTarget = "17"
    }

    // Models are memory-mapped from the APK: they must be stored uncompressed.
    androidResources {
        noCompress += "tflite"
    }
}

dependencies {
    implementation(project(":core"))
    implementation("com.google.ai.edge.litert:litert:1.0.1")
    // GpuDelegate for --delegate gpu (not built here: no Android SDK; the core's Delegate is JVM-tested)
    implementation("com.google.ai.edge.litert:litert-gpu:1.0.1")
    implementation("androidx.activity:activity-ktx:1.9.3")
    implementation("androidx.core:core-ktx:1.13.1")
}

// gradle :app:copyDrnetArtifacts -PdrnetArtifacts=/path/to/runs/convert/int8
// copies manifest.json and tflite/ of a `drnet-edge convert` output into src/main/assets/drnet (replacing it).
tasks.register<Sync>("copyDrnetArtifacts") {
    group = "drnet"
    description = "Copy a drnet-edge artifact directory (-PdrnetArtifacts=DIR) into src/main/assets/drnet"
    val dir = providers.gradleProperty("drnetArtifacts")
    from(dir.map { path ->
        val d = file(path)
        if (!d.resolve("manifest.json").isFile) {
            throw GradleException("$d has no manifest.json: pass -PdrnetArtifacts=<output of drnet-edge convert>")
        }
        d
    }.orElse(provider<File> {
        throw GradleException("pass -PdrnetArtifacts=DIR (a drnet-edge convert output directory with tflite models)")
    })) {
        include("manifest.json", "tflite/**")
    }
    into(layout.projectDirectory.dir("src/main/assets/drnet"))
}
