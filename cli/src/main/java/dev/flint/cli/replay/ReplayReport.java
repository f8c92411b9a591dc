package dev.flint.cli.replay;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Percentiles over the measured keys (the warm-up keys are sent but not counted): time to first token over the
 * requests that got one before they ended or were cancelled, time to completion over completed requests, prompt
 * tokens reused from the server's cache and computed, over the requests whose final answer reported them.
 */
public final class ReplayReport {
    private ReplayReport() {}

    /** Nearest-rank percentile of sorted values. */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static Map<String, Object> stats(List<Attempt> as, ToDoubleFunction<Attempt> f) {
        double[] v = as.stream().mapToDouble(f).filter(x -> !Double.isNaN(x)).sorted().toArray();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("n", v.length);
        m.put("p50", num(percentile(v, 0.50)));
        m.put("p95", num(percentile(v, 0.95)));
        m.put("p99", num(percentile(v, 0.99)));
        m.put("mean", num(v.length == 0 ? Double.NaN : Arrays.stream(v).average().orElse(Double.NaN)));
        m.put("sum", num(Arrays.stream(v).sum()));
        return m;
    }

    private static Object num(double d) {
        return Double.isNaN(d) ? null : Math.round(d * 1000) / 1000.0;
    }

    private static double count(int n) {
        return n < 0 ? Double.NaN : n;
    }

    /** The whole report as a JSON-ready map. */
    public static Map<String, Object> build(Map<String, Object> setup, List<Attempt> all, int warmup) {
        List<Attempt> measured = all.subList(Math.min(warmup, all.size()), all.size());
        Map<String, Object> r = new LinkedHashMap<>(setup);
        r.put("keys", all.size());
        r.put("warmup", Math.min(warmup, all.size()));
        r.put("requests", measured.size());
        r.put("completed", measured.stream().filter(a -> a.status() == Attempt.Status.COMPLETED).count());
        r.put("cancelled", measured.stream().filter(a -> a.status() == Attempt.Status.CANCELLED).count());
        r.put("failed", measured.stream().filter(a -> a.status() == Attempt.Status.FAILED).count());
        r.put("ttft_ms", stats(measured, Attempt::ttftMs));
        r.put("total_ms", stats(measured, Attempt::totalMs));
        r.put("reused_tokens", stats(measured, a -> count(a.reused())));
        r.put("computed_tokens", stats(measured, a -> count(a.computed())));
        r.put("generated_tokens", stats(measured, a -> count(a.generated())));
        List<Map<String, Object>> per = new ArrayList<>();
        for (Attempt a : all) {
            Map<String, Object> k = new LinkedHashMap<>();
            k.put("key", a.key);
            k.put("typed", a.typed);
            k.put("warmup", a.key < warmup);
            k.put("status", a.status().name().toLowerCase());
            k.put("ttft_ms", num(a.ttftMs()));
            k.put("total_ms", num(a.totalMs()));
            k.put("prompt_tokens", a.promptTokens() < 0 ? null : a.promptTokens());
            k.put("reused_tokens", a.reused() < 0 ? null : a.reused());
            k.put("computed_tokens", a.computed() < 0 ? null : a.computed());
            k.put("generated_tokens", a.generated() < 0 ? null : a.generated());
            k.put("finish_reason", a.finishReason());
            if (a.error() != null) {
                k.put("error", a.error());
            }
            per.add(k);
        }
        r.put("per_key", per);
        return r;
    }

    @SuppressWarnings("unchecked")
    public static void printText(Map<String, Object> r, PrintWriter out) {
        out.printf("replay over %s (%s) of %s %s-%s: %s keys, %s warm-up; %s%n", r.get("transport"), r.get("url"),
                r.get("file"), r.get("from"), r.get("to"), r.get("keys"), r.get("warmup"),
                ((int) r.get("interval_ms")) == 0 ? "each key waits for the previous completion"
                        : "a key every " + r.get("interval_ms") + " ms, cancelling the request in flight");
        out.printf("requests %s: %s completed, %s cancelled, %s failed%n", r.get("requests"), r.get("completed"),
                r.get("cancelled"), r.get("failed"));
        out.println("| per request | n | p50 | p95 | p99 | mean |");
        out.println("| --- | --- | --- | --- | --- | --- |");
        String[][] rows = {{"time to first token (ms)", "ttft_ms"}, {"time to completion (ms)", "total_ms"},
                {"prompt tokens reused", "reused_tokens"}, {"prompt tokens computed", "computed_tokens"},
                {"tokens generated", "generated_tokens"}};
        for (String[] row : rows) {
            Map<String, Object> s = (Map<String, Object>) r.get(row[1]);
            out.printf("| %s | %s | %s | %s | %s | %s |%n", row[0], s.get("n"), fmt(s.get("p50")), fmt(s.get("p95")),
                    fmt(s.get("p99")), fmt(s.get("mean")));
        }
    }

    private static String fmt(Object o) {
        return o == null ? "-" : String.format("%.1f", ((Number) o).doubleValue());
    }
}
