package dev.drnetedge.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The LiteRT delegate the app asks for ({@code --es delegate cpu|gpu|nnapi}, as {@code drnet-edge bench --app
 * --delegate} passes it) and what each model actually got. The app applies it through its interpreter options
 * (CPU: XNNPACK; GPU: a GpuDelegate; NNAPI: setUseNNAPI); a delegate that refuses a model (the int8 files take an
 * int8 input, which GPU delegates often refuse) makes the model load on the CPU instead, and the report says so:
 * {@link #load} does the fallback and {@link #summary} writes the "delegate" part of the app's JSON.
 */
public enum Delegate {
    CPU,
    GPU,
    NNAPI;

    /** The NNAPI deprecation note the report carries wherever NNAPI is offered. */
    public static final String NNAPI_NOTE =
            "NNAPI is deprecated from Android 15 (API 35): vendors may drop their drivers; LiteRT's NPU path replaces it";

    /** {@code cpu}, {@code gpu} or {@code nnapi} (any case); null or empty is the CPU. */
    public static Delegate parse(String name) {
        if (name == null || name.trim().isEmpty()) {
            return CPU;
        }
        for (Delegate d : values()) {
            if (d.name().equalsIgnoreCase(name.trim())) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown delegate '" + name + "': use cpu, gpu or nnapi");
    }

    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Creates one model's interpreter with a given delegate; throws when the delegate cannot be applied. */
    public interface Loader<T> {
        T load(Delegate delegate) throws Exception;
    }

    /** One model's interpreter and where it runs. */
    public static final class Loaded<T> {
        public final T value;
        public final Delegate asked;
        public final Delegate used;
        /** Why the asked delegate was not used (its exception's message), or null. */
        public final String reason;

        Loaded(T value, Delegate asked, Delegate used, String reason) {
            this.value = value;
            this.asked = asked;
            this.used = used;
            this.reason = reason;
        }

        public boolean fellBack() {
            return used != asked;
        }

        public Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("asked", asked.key());
            m.put("used", used.key());
            m.put("status", fellBack() ? "refused" : asked == CPU ? "cpu" : "applied");
            m.put("reason", reason);
            return m;
        }
    }

    /** Load with {@code asked}; if that throws, load on the CPU and keep the reason (a CPU failure propagates). */
    public static <T> Loaded<T> load(Delegate asked, Loader<T> loader) throws Exception {
        if (asked == CPU) {
            return new Loaded<>(loader.load(CPU), CPU, CPU, null);
        }
        try {
            return new Loaded<>(loader.load(asked), asked, asked, null);
        } catch (Exception e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            return new Loaded<>(loader.load(CPU), asked, CPU, why);
        }
    }

    /** The app JSON's "delegate": what was asked, per model file what it got, the models that fell back. */
    public static Map<String, Object> summary(Delegate asked, Map<String, ? extends Loaded<?>> perModel) {
        Map<String, Object> models = new LinkedHashMap<>();
        List<String> fellBack = new ArrayList<>();
        for (Map.Entry<String, ? extends Loaded<?>> e : perModel.entrySet()) {
            models.put(e.getKey(), e.getValue().toJson());
            if (e.getValue().fellBack()) {
                fellBack.add(e.getKey());
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("asked", asked.key());
        m.put("models", models);
        m.put("fell_back", fellBack);
        m.put("note", asked == NNAPI ? NNAPI_NOTE : null);
        return m;
    }

    /**
     * The app JSON's "startup": the time to load every model (what a user pays at app start) and the process's
     * PSS (kB, as Debug.getPss gives it) before and after, in MB.
     */
    public static Map<String, Object> startup(List<String> models, double loadAllMs, long pssBeforeKb, long pssAfterKb) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("models", new ArrayList<>(models));
        m.put("load_all_ms", loadAllMs);
        m.put("pss_before_mb", pssBeforeKb / 1024.0);
        m.put("pss_after_mb", pssAfterKb / 1024.0);
        m.put("pss_delta_mb", (pssAfterKb - pssBeforeKb) / 1024.0);
        return m;
    }
}
