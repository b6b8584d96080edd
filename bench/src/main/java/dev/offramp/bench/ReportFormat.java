package dev.offramp.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Locale;

/** Renders a {@link BenchReport} as a plain table, a Markdown table, or JSON. */
public enum ReportFormat {
    TEXT, MARKDOWN, JSON;

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public String render(BenchReport r) {
        return switch (this) {
            case TEXT -> text(r);
            case MARKDOWN -> markdown(r);
            case JSON -> json(r);
        };
    }

    private static String text(BenchReport r) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "model: %s (%s; %s)%nweights read per decoded token: %.1f MB; pp%d / tg%d, "
                        + "median of %d interleaved repetitions%nmachine: %s%n", r.label(), r.model(), r.weightTypes(),
                r.weightBytesPerToken() / 1e6, r.promptTokens(), r.genTokens(), r.reps(), r.machine()));
        for (ThreadRun run : r.runs()) {
            s.append(String.format(Locale.ROOT, "%n%d thread(s): measured read bandwidth %.1f GB/s%n", run.threads(),
                    run.readGbps()));
            s.append(String.format(Locale.ROOT, "  %-22s %10s %10s %8s %8s %8s %7s%n", "system", "pp tok/s", "tg tok/s",
                    "pp x", "tg x", "GB/s", "of BW"));
            SystemResult o = run.offramp();
            for (SystemResult sys : run.systems()) {
                if (!sys.ok()) {
                    s.append(String.format(Locale.ROOT, "  %-22s FAILED: %s%n", sys.name(), firstLine(sys.error())));
                    continue;
                }
                boolean peer = sys != o;
                s.append(String.format(Locale.ROOT, "  %-22s %10.1f %10.2f %8s %8s %8.1f %6.0f%%%n", sys.name(),
                        sys.prefillMedian(), sys.decodeMedian(),
                        peer ? fmt(ThreadRun.ratio(o.prefillMedian(), sys.prefillMedian())) : "",
                        peer ? fmt(ThreadRun.ratio(o.decodeMedian(), sys.decodeMedian())) : "",
                        sys.gbps(), 100 * sys.bandwidthFraction()));
            }
            s.append("  (pp x / tg x = Offramp / that peer)\n");
            for (SystemResult sys : run.systems()) {
                s.append("  build: ").append(sys.name()).append(" = ").append(sys.build()).append('\n');
            }
        }
        return s.toString();
    }

    private static String markdown(BenchReport r) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s (%s), %.1f MB of weights per decoded token, pp%d / tg%d, median of %d "
                        + "interleaved repetitions (min in brackets); %s%n%n", r.label(), r.weightTypes(),
                r.weightBytesPerToken() / 1e6, r.promptTokens(), r.genTokens(), r.reps(), r.machine()));
        s.append("| threads | system | prefill tok/s | decode tok/s | prefill ratio | decode ratio | GB/s | of read BW (GB/s) |\n");
        s.append("|---|---|---|---|---|---|---|---|\n");
        for (ThreadRun run : r.runs()) {
            SystemResult o = run.offramp();
            for (SystemResult sys : run.systems()) {
                if (!sys.ok()) {
                    s.append(String.format(Locale.ROOT, "| %d | %s | failed: %s | | | | | |%n", run.threads(),
                            sys.name(), firstLine(sys.error()).replace('|', '/')));
                    continue;
                }
                boolean peer = sys != o;
                s.append(String.format(Locale.ROOT, "| %d | %s | %.1f (%.1f) | %.2f (%.2f) | %s | %s | %.1f | %.0f%% (%.1f) |%n",
                        run.threads(), sys.name(), sys.prefillMedian(), sys.prefillMin(), sys.decodeMedian(),
                        sys.decodeMin(),
                        peer ? fmt(ThreadRun.ratio(o.prefillMedian(), sys.prefillMedian())) : "–",
                        peer ? fmt(ThreadRun.ratio(o.decodeMedian(), sys.decodeMedian())) : "–",
                        sys.gbps(), 100 * sys.bandwidthFraction(), run.readGbps()));
            }
        }
        s.append('\n');
        r.runs().stream().flatMap(run -> run.systems().stream()).map(sys -> sys.name() + ": " + sys.build())
                .distinct().forEach(b -> s.append("- ").append(b).append('\n'));
        return s.toString();
    }

    private static String json(BenchReport r) {
        ObjectNode root = MAPPER.createObjectNode();
        root.put("model", r.model());
        root.put("label", r.label());
        root.put("weight_types", r.weightTypes());
        root.put("weight_bytes_per_token", r.weightBytesPerToken());
        root.put("prompt_tokens", r.promptTokens());
        root.put("gen_tokens", r.genTokens());
        root.put("reps", r.reps());
        root.put("machine", r.machine());
        // headline: the run with the most threads, against the native peer when it ran
        r.headline().ifPresent(h -> {
            SystemResult o = h.offramp();
            root.put("threads", h.threads());
            root.put("offramp_prefill_tps", num(o.prefillMedian()));
            root.put("offramp_decode_tps", num(o.decodeMedian()));
            root.put("gbps", num(o.gbps()));
            root.put("read_bandwidth_gbps", num(h.readGbps()));
            root.put("bandwidth_fraction", num(o.bandwidthFraction()));
            h.primaryPeer().ifPresentOrElse(p -> {
                root.put("peer", p.name());
                root.put("peer_build", p.build());
                root.put("peer_prefill_tps", num(p.prefillMedian()));
                root.put("peer_decode_tps", num(p.decodeMedian()));
                root.put("prefill_ratio", num(ThreadRun.ratio(o.prefillMedian(), p.prefillMedian())));
                root.put("decode_ratio", num(ThreadRun.ratio(o.decodeMedian(), p.decodeMedian())));
            }, () -> {
                root.putNull("peer");
                root.putNull("peer_build");
                root.putNull("prefill_ratio");
                root.putNull("decode_ratio");
            });
        });
        ArrayNode runs = root.putArray("runs");
        for (ThreadRun run : r.runs()) {
            ObjectNode rn = runs.addObject();
            rn.put("threads", run.threads());
            rn.put("read_bandwidth_gbps", num(run.readGbps()));
            ArrayNode systems = rn.putArray("systems");
            SystemResult o = run.offramp();
            for (SystemResult sys : run.systems()) {
                ObjectNode sn = systems.addObject();
                sn.put("name", sys.name());
                sn.put("build", sys.build());
                if (sys.error() != null) {
                    sn.put("error", sys.error());
                }
                sn.put("prefill_tps", num(sys.prefillMedian()));
                sn.put("decode_tps", num(sys.decodeMedian()));
                sys.prefill().forEach(sn.putArray("prefill_samples")::add);
                sys.decode().forEach(sn.putArray("decode_samples")::add);
                sn.put("gbps", num(sys.gbps()));
                sn.put("bandwidth_fraction", num(sys.bandwidthFraction()));
                if (sys != o) {
                    sn.put("prefill_ratio", num(ThreadRun.ratio(o.prefillMedian(), sys.prefillMedian())));
                    sn.put("decode_ratio", num(ThreadRun.ratio(o.decodeMedian(), sys.decodeMedian())));
                }
            }
        }
        try {
            return MAPPER.writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON has no NaN: absent figures are null. */
    private static Double num(double x) {
        return Double.isNaN(x) || Double.isInfinite(x) ? null
                : new java.math.BigDecimal(x).round(new java.math.MathContext(5)).doubleValue();
    }

    private static String fmt(double ratio) {
        return Double.isNaN(ratio) ? "n/a" : String.format(Locale.ROOT, "%.2fx", ratio);
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no result";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
