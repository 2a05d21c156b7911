package dev.drnetedge.core;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A policy: which resolution(s) run on an image and which one answers. The JSON form is the one
 * {@code drnet_edge/policy/spec.py} reads and the manifest (version 2, {@code "policy": {"name", "spec"}}) carries:
 * <ul>
 *   <li>{@code {"kind": "fixed", "resolution_index": k}}: every image at resolutions[k];</li>
 *   <li>{@code {"kind": "drnet"}}: the predictor's argmax;</li>
 *   <li>{@code {"kind": "drnet-escalate", "threshold": t}}: the predictor's choice k; when k != 0 and the
 *       backbone's max softmax at k is below t, resolution index 0 (the largest) runs too and answers;</li>
 *   <li>{@code {"kind": "cascade", "resolutions": [160, 224], "thresholds": [0.7]}}: the resolutions in that
 *       order (smallest first); the first stage whose max softmax is at least its threshold answers; the last
 *       stage always answers (named {@code cascade-160:0.7-224});</li>
 *   <li>{@code {"kind": "cascade", "resolutions": [160, 224], "thresholds": [0.3], "signal": "margin"}}: the same,
 *       but a stage compares its margin, the top-1 minus the top-2 softmax probability, with its threshold (named
 *       {@code cascade-margin-160:0.3-224}). {@code "signal": "max_softmax"} is the default (the key absent); an
 *       unknown signal is refused, naming {@code <where>.signal}.</li>
 * </ul>
 * Instances are validated against a manifest's resolutions (and whether it has a predictor) when made.
 * {@link PolicyRunner} runs them.
 */
public final class PolicySpec {
    /** The policy kinds this app runs; anything else in a manifest is refused. */
    public enum Kind {
        FIXED("fixed"), DRNET("drnet"), DRNET_ESCALATE("drnet-escalate"), CASCADE("cascade");

        public final String json;

        Kind(String json) {
            this.json = json;
        }

        static Kind of(String json, String where) {
            for (Kind k : values()) {
                if (k.json.equals(json)) {
                    return k;
                }
            }
            throw new Json.JsonException(where + ": unknown policy kind \"" + json + "\" (this app runs fixed, drnet, "
                    + "drnet-escalate and cascade): update the app, or recalibrate with a matching drnet-edge");
        }
    }

    /**
     * What a cascade stage compares with its threshold ({@code "signal"} in the spec, {@code SIGNALS} in
     * drnet_edge/policy/spec.py): the max softmax (the default) or the margin, top-1 minus top-2 softmax probability.
     */
    public enum Signal {
        MAX_SOFTMAX("max_softmax"), MARGIN("margin");

        public final String json;

        Signal(String json) {
            this.json = json;
        }

        /** The signal spelled {@code json}, or null when none is. */
        static Signal find(String json) {
            for (Signal g : values()) {
                if (g.json.equals(json)) {
                    return g;
                }
            }
            return null;
        }

        static Signal of(String json, String where) {
            Signal g = find(json);
            if (g == null) {
                throw new Json.JsonException(where + ": unknown cascade signal \"" + json + "\" (this app knows "
                        + "max_softmax and margin): update the app, or recalibrate with a matching drnet-edge");
            }
            return g;
        }
    }

    /**
     * Display name, e.g. "cascade-160:0.7-224", "cascade-margin-160:0.3-224", "drnet", "fixed-224",
     * "drnet-escalate:0.6".
     */
    public final String name;
    public final Kind kind;
    /** FIXED: the resolution index; -1 otherwise. */
    public final int resolutionIndex;
    /** DRNET_ESCALATE: the threshold; NaN otherwise. */
    public final double threshold;
    /** CASCADE: resolutions in run order (pixels); empty otherwise. */
    public final List<Integer> chain;
    /** CASCADE: resolution indices in run order (into the manifest's resolutions); empty otherwise. */
    public final List<Integer> chainIndices;
    /** CASCADE: one threshold per stage but the last; empty otherwise. */
    public final List<Double> thresholds;
    /**
     * CASCADE: what each stage compares with its threshold. MAX_SOFTMAX for the other kinds (drnet-escalate
     * always compares the max softmax).
     */
    public final Signal signal;

    private PolicySpec(String name, Kind kind, int resolutionIndex, double threshold, List<Integer> chain,
            List<Integer> chainIndices, List<Double> thresholds, Signal signal) {
        this.kind = kind;
        this.signal = signal;
        this.resolutionIndex = resolutionIndex;
        this.threshold = threshold;
        this.chain = Collections.unmodifiableList(new ArrayList<>(chain));
        this.chainIndices = Collections.unmodifiableList(new ArrayList<>(chainIndices));
        this.thresholds = Collections.unmodifiableList(new ArrayList<>(thresholds));
        this.name = name != null ? name : defaultName();
    }

    // ------------------------------------------------------------------ constructors (validated)

    // (not List.of: the core runs on Android from API 26, where java.util.List.of does not exist)
    private static final List<Integer> NO_INTS = Collections.emptyList();
    private static final List<Double> NO_DOUBLES = Collections.emptyList();

    public static PolicySpec fixed(int resolutionIndex, List<Integer> resolutions) {
        if (resolutionIndex < 0 || resolutionIndex >= resolutions.size()) {
            throw new Json.JsonException("policy fixed: resolution_index " + resolutionIndex + " is outside 0.."
                    + (resolutions.size() - 1) + " (resolutions " + resolutions + ")");
        }
        return new PolicySpec("fixed-" + resolutions.get(resolutionIndex), Kind.FIXED, resolutionIndex, Double.NaN,
                NO_INTS, NO_INTS, NO_DOUBLES, Signal.MAX_SOFTMAX);
    }

    public static PolicySpec drnet(boolean hasPredictor) {
        requirePredictor(Kind.DRNET, hasPredictor);
        return new PolicySpec(null, Kind.DRNET, -1, Double.NaN, NO_INTS, NO_INTS, NO_DOUBLES, Signal.MAX_SOFTMAX);
    }

    public static PolicySpec drnetEscalate(double threshold, boolean hasPredictor) {
        requirePredictor(Kind.DRNET_ESCALATE, hasPredictor);
        checkThreshold(threshold, "policy drnet-escalate");
        return new PolicySpec(null, Kind.DRNET_ESCALATE, -1, threshold, NO_INTS, NO_INTS, NO_DOUBLES,
                Signal.MAX_SOFTMAX);
    }

    /**
     * A cascade over {@code chain} (pixels, smallest first) with one max-softmax threshold per stage but the last.
     */
    public static PolicySpec cascade(List<Integer> chain, List<Double> thresholds, List<Integer> resolutions) {
        return cascade(chain, thresholds, Signal.MAX_SOFTMAX, resolutions);
    }

    /** A cascade whose stages compare {@code signal} with their thresholds. */
    public static PolicySpec cascade(List<Integer> chain, List<Double> thresholds, Signal signal,
            List<Integer> resolutions) {
        String where = "policy cascade" + (signal == Signal.MAX_SOFTMAX ? " " : "-" + signal.json + " ") + chain;
        if (chain.size() < 2) {
            throw new Json.JsonException(where + ": a cascade needs at least two stages, e.g. [160, 224]");
        }
        if (thresholds.size() != chain.size() - 1) {
            throw new Json.JsonException(where + ": " + thresholds.size() + " threshold(s) for " + chain.size()
                    + " stages (one per stage but the last, which always answers)");
        }
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < chain.size(); i++) {
            int r = chain.get(i);
            int k = resolutions.indexOf(r);
            if (k < 0) {
                throw new Json.JsonException(where + ": " + r + " is not one of the model's resolutions " + resolutions);
            }
            if (i > 0 && r <= chain.get(i - 1)) {
                throw new Json.JsonException(where + ": stages must run from the smallest resolution to larger ones, "
                        + "each once");
            }
            idx.add(k);
        }
        for (double t : thresholds) {
            checkThreshold(t, where);
        }
        return new PolicySpec(null, Kind.CASCADE, -1, Double.NaN, chain, idx, thresholds, signal);
    }

    /** The same policy under another display name (the manifest's). */
    public PolicySpec named(String newName) {
        return new PolicySpec(newName, kind, resolutionIndex, threshold, chain, chainIndices, thresholds, signal);
    }

    private static void requirePredictor(Kind kind, boolean hasPredictor) {
        if (!hasPredictor) {
            throw new Json.JsonException("policy " + kind.json + " needs the resolution predictor, and these models "
                    + "have none");
        }
    }

    private static void checkThreshold(double t, String where) {
        if (!(t > 0.0 && t <= 1.0)) {
            throw new Json.JsonException(where + ": threshold " + t + " is outside (0, 1]");
        }
    }

    // ------------------------------------------------------------------ JSON

    /**
     * Parse a spec object ({@code {"kind": ...}}) and validate it against the model. A cascade's optional
     * {@code "signal"} is "max_softmax" (the default) or "margin"; anything else is refused naming
     * {@code <where>.signal}. Other kinds ignore the key, as drnet_edge/policy/spec.py does.
     */
    public static PolicySpec fromJson(Object specJson, List<Integer> resolutions, boolean hasPredictor, String where) {
        Map<String, Object> s = Json.obj(specJson, where);
        Kind kind = Kind.of(Json.str(Json.get(s, "kind", where), where + ".kind"), where);
        switch (kind) {
            case FIXED:
                return fixed((int) Json.integer(Json.get(s, "resolution_index", where), where + ".resolution_index"),
                        resolutions);
            case DRNET:
                return drnet(hasPredictor);
            case DRNET_ESCALATE:
                return drnetEscalate(Json.num(Json.get(s, "threshold", where), where + ".threshold"), hasPredictor);
            case CASCADE: {
                List<Integer> chain = new ArrayList<>();
                for (Object o : Json.arr(Json.get(s, "resolutions", where), where + ".resolutions")) {
                    chain.add((int) Json.integer(o, where + ".resolutions"));
                }
                List<Double> ts = new ArrayList<>();
                for (Object o : Json.arr(Json.get(s, "thresholds", where), where + ".thresholds")) {
                    ts.add(Json.num(o, where + ".thresholds"));
                }
                Signal signal = s.containsKey("signal")
                        ? Signal.of(Json.str(s.get("signal"), where + ".signal"), where + ".signal")
                        : Signal.MAX_SOFTMAX;
                return cascade(chain, ts, signal, resolutions);
            }
            default:
                throw new AssertionError(kind);
        }
    }

    /** The spec object, as drnet_edge/policy/spec.py reads it ({@code "signal"} only when not the default). */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("kind", kind.json);
        switch (kind) {
            case FIXED:
                out.put("resolution_index", resolutionIndex);
                break;
            case DRNET_ESCALATE:
                out.put("threshold", threshold);
                break;
            case CASCADE:
                out.put("resolutions", new ArrayList<>(chain));
                out.put("thresholds", new ArrayList<>(thresholds));
                if (signal != Signal.MAX_SOFTMAX) {
                    out.put("signal", signal.json);
                }
                break;
            default:
                break;
        }
        return out;
    }

    /**
     * A policy from its name, as the Python CLI spells it: "drnet", "fixed-224", "drnet-escalate:0.7",
     * "cascade-160:0.7-224" (every stage but the last with its threshold), "cascade-margin-160:0.3-224" (the
     * stages compare the margin; "cascade-max_softmax-..." is the default spelled out).
     */
    public static PolicySpec parseName(String name, List<Integer> resolutions, boolean hasPredictor) {
        String where = "policy \"" + name + "\"";
        if ("drnet".equals(name)) {
            return drnet(hasPredictor);
        }
        if (name.startsWith("fixed-")) {
            int r = parseInt(name.substring("fixed-".length()), where);
            int k = resolutions.indexOf(r);
            if (k < 0) {
                throw new Json.JsonException(where + ": " + r + " is not one of the model's resolutions " + resolutions);
            }
            return fixed(k, resolutions);
        }
        if (name.startsWith("drnet-escalate:")) {
            return drnetEscalate(parseDouble(name.substring("drnet-escalate:".length()), where), hasPredictor);
        }
        if (name.startsWith("cascade-")) {
            String[] parts = name.substring("cascade-".length()).split("-", -1);
            Signal signal = Signal.MAX_SOFTMAX;
            int first = 0;
            if (parts.length > 0 && !parts[0].isEmpty() && parts[0].indexOf(':') < 0
                    && !Character.isDigit(parts[0].charAt(0))) {
                signal = Signal.of(parts[0], where); // "margin-160:0.3-224"; a word that is none is refused
                first = 1;
            }
            List<Integer> chain = new ArrayList<>();
            List<Double> ts = new ArrayList<>();
            for (int i = first; i < parts.length; i++) {
                boolean last = i == parts.length - 1;
                int colon = parts[i].indexOf(':');
                if (last != (colon < 0)) {
                    throw new Json.JsonException(where + ": every stage but the last needs a threshold "
                            + "(e.g. cascade-160:0.7-224), the last none");
                }
                chain.add(parseInt(last ? parts[i] : parts[i].substring(0, colon), where));
                if (!last) {
                    ts.add(parseDouble(parts[i].substring(colon + 1), where));
                }
            }
            return cascade(chain, ts, signal, resolutions);
        }
        throw new Json.JsonException(where + " is not known (drnet, fixed-R, drnet-escalate:T, cascade-R1:T-R2, "
                + "cascade-margin-R1:T-R2)");
    }

    private static int parseInt(String s, String where) {
        try {
            return Integer.parseInt(s);
        } catch (NumberFormatException e) {
            throw new Json.JsonException(where + ": \"" + s + "\" is not a resolution");
        }
    }

    private static double parseDouble(String s, String where) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new Json.JsonException(where + ": threshold \"" + s + "\" is not a number");
        }
    }

    // ------------------------------------------------------------------ properties

    /** Whether the policy runs the resolution predictor. */
    public boolean usesPredictor() {
        return kind == Kind.DRNET || kind == Kind.DRNET_ESCALATE;
    }

    /** Whether an image may run more than one resolution. */
    public boolean multiPass() {
        return kind == Kind.DRNET_ESCALATE || kind == Kind.CASCADE;
    }

    private String defaultName() {
        switch (kind) {
            case DRNET:
                return "drnet";
            case DRNET_ESCALATE:
                return "drnet-escalate:" + formatG(threshold);
            case CASCADE: {
                StringBuilder sb = new StringBuilder("cascade");
                if (signal != Signal.MAX_SOFTMAX) {
                    sb.append('-').append(signal.json);
                }
                for (int i = 0; i < chain.size(); i++) {
                    sb.append('-').append(chain.get(i));
                    if (i < thresholds.size()) {
                        sb.append(':').append(formatG(thresholds.get(i)));
                    }
                }
                return sb.toString();
            }
            default:
                throw new AssertionError(kind); // FIXED is always named by its constructor
        }
    }

    /** Python's {@code f"{x:g}"} (6 significant digits, trailing zeros dropped) for the names. */
    static String formatG(double x) {
        if (x == 0 || Double.isNaN(x) || Double.isInfinite(x)) {
            return x == 0 ? "0" : Double.toString(x);
        }
        BigDecimal r = new BigDecimal(x).round(new MathContext(6));
        int exp = r.precision() - r.scale() - 1;
        if (exp < -4 || exp >= 6) {
            BigDecimal mant = r.movePointLeft(exp).stripTrailingZeros();
            return mant.toPlainString() + String.format(Locale.ROOT, "e%s%02d", exp < 0 ? "-" : "+", Math.abs(exp));
        }
        return r.stripTrailingZeros().toPlainString();
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof PolicySpec)) {
            return false;
        }
        PolicySpec p = (PolicySpec) o;
        return kind == p.kind && resolutionIndex == p.resolutionIndex
                && Double.compare(threshold, p.threshold) == 0 && chainIndices.equals(p.chainIndices)
                && thresholds.equals(p.thresholds) && signal == p.signal;
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(kind, resolutionIndex, threshold, chainIndices, thresholds, signal);
    }

    @Override
    public String toString() {
        return name + " " + toJson();
    }
}
