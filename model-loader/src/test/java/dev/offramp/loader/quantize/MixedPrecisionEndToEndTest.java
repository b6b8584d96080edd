package dev.offramp.loader.quantize;

import dev.offramp.core.Models;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufModelConfigs;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code --mixed} on stories-ee12 against the files of its size, judged on held-out text
 * ({@code trained/stories-ee12-valid.txt}; sensitivities come from the first 256 tokens of
 * {@code eval/stories-calibration.txt}, a different text). A few minutes on 2 cores, so it runs only
 * with {@code -Dofframp.mixedE2E=true}; the numbers are recorded in docs/quantization.md.
 * {@code -Dofframp.mixedTable=FILE.md} writes that table instead (longer: every budget, plus greedy
 * agreement over 200 tokens); with it, {@code -Dofframp.mixedTable.only=Q2_K,Q2_K_MIX} keeps the rows of
 * those budgets and {@code -Dofframp.mixedTable.heldOut=valid+calibration} scores the held-out text
 * plus the calibration text after its first 256 tokens (the ones the sensitivities used), each cut
 * into its own 512-token chunks.
 */
class MixedPrecisionEndToEndTest {

    private static final String PROMPT = "Once upon a time";

    /** One quantized file and its held-out scores. */
    record Row(String label, long fileBytes, HeldOutScores scores, int teacherForced, int prefix, String mix) {
    }

    @Test
    void mixedBeatsTheFilesOfItsSizeOnHeldOutText(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("offramp.mixedE2E"), "set -Dofframp.mixedE2E=true (minutes)");
        try (Harness h = new Harness(tmp, false, false)) {
            // pinned: offramp perplexity / llama-perplexity of the F32 file on this text
            assertThat(h.f32.perplexity()).isCloseTo(3.3311, org.assertj.core.data.Offset.offset(5e-5));

            // llama.cpp's "Q2_K" file (Q2_K_MIX) and the uniform Q2_K below it
            Row q2 = h.uniform("Q2_K");
            Row q2mix = h.uniform("Q2_K_MIX");
            Row mixed = h.mixed("Q2_K_MIX");
            assertThat(mixed.fileBytes()).isLessThanOrEqualTo(q2mix.fileBytes());
            for (Row other : List.of(q2, q2mix)) {
                double[] d = mixed.scores().pairedDiff(other.scores());
                System.err.printf(Locale.ROOT, "mixed@Q2_K_MIX vs %s: dNLL %+.5f (SE %.5f)%n", other.label(), d[0], d[1]);
                assertThat(mixed.scores().perplexity()).isLessThan(other.scores().perplexity());
                assertThat(d[0]).as("margin beyond 2 standard errors vs " + other.label()).isLessThan(-2 * d[1]);
            }

            // at the uniform Q3_K size every candidate is within PPL noise of F32: judge by KL instead
            Row q3 = h.uniform("Q3_K");
            Row mixed3 = h.mixed("Q3_K");
            assertThat(mixed3.fileBytes()).isLessThanOrEqualTo(q3.fileBytes());
            assertThat(mixed3.scores().kl()).isLessThan(0.75 * q3.scores().kl());
            assertThat(mixed3.scores().top1()).isGreaterThan(q3.scores().top1());
        }
        // exactly the uniform Q2_K size, on the larger held-out text (valid + unused calibration tail)
        try (Harness h = new Harness(tmp, false, true)) {
            Row q2 = h.uniform("Q2_K");
            Row mixed = h.mixed("Q2_K");
            assertThat(mixed.fileBytes()).isLessThanOrEqualTo(q2.fileBytes());
            double[] d = mixed.scores().pairedDiff(q2.scores());
            System.err.printf(Locale.ROOT, "mixed@Q2_K vs Q2_K (valid+calibration): dNLL %+.5f (SE %.5f)%n", d[0], d[1]);
            assertThat(mixed.scores().perplexity()).isLessThan(q2.scores().perplexity());
            assertThat(d[0]).as("margin beyond 2 standard errors").isLessThan(-2 * d[1]);
        }
    }

    @Test
    void table(@TempDir Path tmp) throws Exception {
        String out = System.getProperty("offramp.mixedTable");
        Assumptions.assumeTrue(out != null, "set -Dofframp.mixedTable=FILE.md (long)");
        try (Harness h = new Harness(tmp, true,
                "valid+calibration".equals(System.getProperty("offramp.mixedTable.heldOut")))) {
            List<Row> rows = new ArrayList<>();
            String[][] plan = {
                    {"Q2_K", "u"}, {"Q2_K", "m"}, {"Q2_K_MIX", "u"}, {"Q2_K_MIX", "m"}, {"Q3_K", "u"}, {"Q3_K", "m"},
                    {"Q3_K_M", "u"}, {"Q3_K_M", "m"}, {"Q4_0", "u"}, {"Q4_K", "u"}, {"Q4_K", "m"}, {"Q4_K_M", "u"},
                    {"Q4_K_M", "m"}, {"Q5_K", "u"}, {"Q5_0", "u"}, {"Q5_K", "m"}, {"Q6_K", "u"}, {"Q8_0", "u"}};
            String only = System.getProperty("offramp.mixedTable.only");
            if (only != null) {
                List<String> keep = List.of(only.split(","));
                plan = java.util.Arrays.stream(plan).filter(p -> keep.contains(p[0])).toArray(String[][]::new);
            }
            StringBuilder md = new StringBuilder();
            md.append("| file | file bytes | held-out PPL | vs F32 | dNLL vs F32 (SE) | KL vs F32 | top-1 = F32 | teacher-forced /200 | greedy prefix | types |\n");
            md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
            Row f32 = new Row("F32", Files.size(h.srcPath), h.f32, 200, 200, "");
            rows.add(f32);
            for (String[] p : plan) {
                rows.add(p[1].equals("u") ? h.uniform(p[0]) : h.mixed(p[0]));
            }
            for (int i = 0; i < rows.size(); i++) {
                Row r = rows.get(i);
                String diff = "";
                if (i > 0) {
                    double[] d = r.scores().pairedDiff(h.f32);
                    diff = String.format(Locale.ROOT, "%+.4f (%.4f)", d[0], d[1]);
                }
                md.append(String.format(Locale.ROOT, "| %s | %,d | %.4f | %+.2f%% | %s | %.2e | %.2f%% | %d | %d | %s |%n",
                        r.label(), r.fileBytes(), r.scores().perplexity(),
                        100 * (r.scores().perplexity() / h.f32.perplexity() - 1), diff, r.scores().kl(),
                        100 * r.scores().top1(), r.teacherForced(), r.prefix(), r.mix()));
            }
            // Each mixed file against every other file no larger than its budget file (down to 75% of it).
            md.append("\n| mixed file | compared with | its bytes | dNLL mixed - it (SE) | in SEs | KL ratio it / mixed |\n");
            md.append("|---|---|---:|---:|---:|---:|\n");
            for (Row r : rows) {
                if (!r.label().startsWith("mixed @ size of ")) {
                    continue;
                }
                String budgetLabel = r.label().substring("mixed @ size of ".length());
                long budgetBytes = rows.stream().filter(x -> x.label().equals(budgetLabel)).findFirst().orElseThrow().fileBytes();
                for (Row o : rows) {
                    if (o.label().startsWith("mixed") || o.label().equals("F32") || o.fileBytes() > budgetBytes
                            || o.fileBytes() < 0.75 * budgetBytes) {
                        continue;
                    }
                    double[] d = r.scores().pairedDiff(o.scores());
                    md.append(String.format(Locale.ROOT, "| %s | %s | %,d | %+.4f (%.4f) | %+.1f | %.2f |%n", r.label(),
                            o.label(), o.fileBytes(), d[0], d[1], d[0] / d[1], o.scores().kl() / r.scores().kl()));
                }
            }
            Files.writeString(Path.of(out), md.toString());
            System.err.print(md);
        }
    }

    /** The F32 source, its held-out reference scores and the builders of uniform and mixed files. */
    static final class Harness implements AutoCloseable {
        final Path srcPath = Fixtures.model("trained/stories-ee12-F32.gguf");
        final GgufFile src;
        final Backend backend = Models.backend(null, 0);
        final ModelConfig config;
        final Tokenizer tok;
        final int[] heldOut;
        final int[] calibration;
        final int[] prompt;
        final int[] reference;
        final HeldOutScores f32;
        final Path tmp;
        final boolean greedy;

        /** @param combined score valid + the calibration text after its first 256 tokens, not valid alone */
        Harness(Path tmp, boolean greedy, boolean combined) throws Exception {
            this.tmp = tmp;
            this.greedy = greedy;
            src = GgufFile.open(srcPath);
            config = GgufModelConfigs.from(src);
            tok = GgufTokenizers.find(src).orElseThrow();
            int[] valid = tok.encode(text(Fixtures.model("trained/stories-ee12-valid.txt")), true, false);
            calibration = tok.encode(text(Fixtures.shared().resolve("eval/stories-calibration.txt")), true, false);
            if (combined) {
                int[] tail = java.util.Arrays.copyOfRange(calibration, 256, calibration.length);
                int a = valid.length / 512 * 512;
                int b = tail.length / 512 * 512;
                heldOut = new int[a + b];
                System.arraycopy(valid, 0, heldOut, 0, a);
                System.arraycopy(tail, 0, heldOut, a, b);
            } else {
                heldOut = valid;
            }
            prompt = tok.encode(PROMPT, true, false);
            LlamaModel m = LlamaModel.bind(config, src.tensors(), backend);
            f32 = HeldOutScores.of(m, heldOut, tok.bos(), 512, null);
            reference = greedy ? HeldOutScores.greedy(m, prompt, 200) : null;
        }

        /** Like {@code offramp perplexity}'s reader: one trailing newline is dropped. */
        private static String text(Path file) throws java.io.IOException {
            String s = Files.readString(file);
            return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        }

        Row uniform(String type) throws Exception {
            Optional<KQuantMix> mix = KQuantMix.byName(type);
            QuantizeOptions o = mix.isPresent() ? QuantizeOptions.of(mix.get()) : QuantizeOptions.of(DType.valueOf(type));
            return row(type, o, "");
        }

        Row mixed(String budgetType) throws Exception {
            Optional<KQuantMix> mix = KQuantMix.byName(budgetType);
            QuantizeOptions b = mix.isPresent() ? QuantizeOptions.of(mix.get()) : QuantizeOptions.of(DType.valueOf(budgetType));
            long budget = GgufQuantizer.plan(src, b).stream().mapToLong(TensorPlan::outputBytes).sum();
            long t0 = System.nanoTime();
            // the CLI's defaults: one 256-token calibration chunk, all candidate types
            MixedPrecision.Choice c = MixedPrecision.choose(src, QuantizeOptions.of(DType.Q4_K), MixedPrecision.CANDIDATES,
                    budget, calibration, tok.bos(), 256, 1, 0, backend, null);
            double secs = (System.nanoTime() - t0) / 1e9;
            Map<DType, Integer> counts = new TreeMap<>();
            c.overrides().values().forEach(t -> counts.merge(t, 1, Integer::sum));
            System.err.printf(Locale.ROOT, "mixed @ %s: %s, chosen in %.1f s%n", budgetType, counts, secs);
            String types = counts.toString().replace("{", "").replace("}", "").replace("=", " x");
            return row("mixed @ size of " + budgetType, QuantizeOptions.of(DType.Q4_K).withOverrides(c.overrides()), types);
        }

        private Row row(String label, QuantizeOptions o, String mix) throws Exception {
            Path file = tmp.resolve(label.replace(' ', '_') + ".gguf");
            GgufQuantizer.write(src, GgufQuantizer.plan(src, o), o, file, null);
            try (GgufFile q = GgufFile.open(file)) {
                LlamaModel m = LlamaModel.bind(config, q.tensors(), backend);
                HeldOutScores s = HeldOutScores.of(m, heldOut, tok.bos(), 512, f32);
                int tf = greedy ? HeldOutScores.teacherForced(m, prompt, reference) : -1;
                int pre = greedy ? HeldOutScores.commonPrefix(HeldOutScores.greedy(m, prompt, 200), reference) : -1;
                System.err.printf(Locale.ROOT, "%s: %d bytes, PPL %.4f, KL %.3e%n", label, Files.size(file), s.perplexity(), s.kl());
                return new Row(label, Files.size(file), s, tf, pre, mix);
            } finally {
                Files.deleteIfExists(file);
            }
        }

        @Override
        public void close() throws Exception {
            backend.close();
            src.close();
        }
    }
}
