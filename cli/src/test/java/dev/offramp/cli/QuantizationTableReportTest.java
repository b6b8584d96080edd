package dev.offramp.cli;

import dev.offramp.core.Models;
import dev.offramp.core.eval.Perplexity;
import dev.offramp.core.eval.PerplexityResult;
import dev.offramp.core.generate.Generator;
import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Produces the stories-ee12 table of docs/quantization.md (minutes of CPU, so only on request):
 * {@code -Dofframp.quantTable=/tmp/table.md}. Per type: file size, perplexity on
 * ../shared/eval/stories-calibration.txt (ctx 512, llama-perplexity's definition), and agreement
 * with F32's 200-token greedy continuation of BOS + "Once upon a time" (EOS ignored): teacher-forced
 * top-1 agreement over the 200 positions and the length of the identical free-running prefix.
 */
@EnabledIfSystemProperty(named = "offramp.quantTable", matches = ".+")
class QuantizationTableReportTest {

    static final String PROMPT = "Once upon a time";

    @Test
    void table(@TempDir Path tmp) throws Exception {
        Path f32 = Fixtures.model("trained/stories-ee12-F32.gguf");
        Path calib = Fixtures.shared().resolve("eval/stories-calibration.txt");
        String text = PerplexityCommand.readText(calib);
        List<String[]> runs = new ArrayList<>();
        runs.add(new String[] {"F32", null});
        for (String t : new String[] {"F16", "BF16", "Q8_0", "Q6_K", "Q5_K", "Q5_1", "Q5_0", "Q4_K", "Q4_1", "Q4_0",
                "Q5_K_M", "Q5_K_S", "Q4_K_M", "Q4_K_S", "Q3_K_L", "Q3_K_M", "Q3_K_S", "Q3_K", "Q2_K_MIX", "Q2_K"}) {
            runs.add(new String[] {t, "-t " + t});
        }
        String only = System.getProperty("offramp.quantTable.only", "");
        for (String m : System.getProperty("offramp.quantTable.mixed", "Q4_K:Q6_K:Q5_K,Q4_0:Q8_0:Q5_1").split(",")) {
            if (m.isBlank()) {
                continue;
            }
            String[] p = m.split(":");
            runs.add(new String[] {"mixed " + p[0] + "/" + p[1] + " @ size of " + p[2],
                    "-t " + p[0] + " --mixed " + p[1] + " --budget " + p[2] + " --calibration " + calib});
        }
        int[] reference;
        try (Generator g = Models.load(f32)) {
            reference = greedy(g, 200);
        }
        StringBuilder md = new StringBuilder();
        md.append("| type | file bytes | PPL (calibration) | PPL vs F32 | teacher-forced top-1 = F32 | identical greedy prefix |\n");
        md.append("|---|---:|---:|---:|---:|---:|\n");
        double basePpl = 0;
        for (String[] r : runs) {
            if (!only.isEmpty() && !r[0].matches(only)) {
                continue;
            }
            Path model = f32;
            StringWriter log = new StringWriter();
            if (r[1] != null) {
                model = tmp.resolve(r[0].replaceAll("[^A-Za-z0-9_]", "_") + ".gguf");
                List<String> args = new ArrayList<>(List.of("quantize", f32.toString(), model.toString(), "--quiet"));
                args.addAll(List.of(r[1].split(" ")));
                StringWriter err = new StringWriter();
                int rc = OfframpCli.commandLine().setOut(new PrintWriter(log)).setErr(new PrintWriter(err))
                        .execute(args.toArray(String[]::new));
                assertThat(rc).as(err.toString()).isZero();
            }
            try (Generator g = Models.load(model)) {
                PerplexityResult pr = Perplexity.of(g.model(), g.tokenizer(), text, 512, 512, null);
                if (r[1] == null) {
                    basePpl = pr.perplexity();
                }
                int agree = teacherForced(g.model(), g.tokenizer().encode(PROMPT, true, false), reference);
                int[] own = greedy(g, 200);
                int prefix = 0;
                while (prefix < own.length && own[prefix] == reference[prefix]) {
                    prefix++;
                }
                String row = String.format(Locale.ROOT, "| %s | %,d | %.4f | %+.2f%% | %d/200 | %d |", r[0],
                        Files.size(model), pr.perplexity(), 100 * (pr.perplexity() / basePpl - 1), agree, prefix);
                System.err.println(row);
                if (!log.toString().isBlank()) {
                    System.err.println(log.toString().lines().filter(l -> l.startsWith("mixed")).findFirst().orElse(""));
                }
                md.append(row).append('\n');
            }
        }
        Files.writeString(Path.of(System.getProperty("offramp.quantTable")), md.toString());
    }

    static int[] greedy(Generator g, int n) {
        try (var s = g.newSession(dev.offramp.core.generate.SessionOptions.defaults().withContextLength(512))) {
            return s.generate(PROMPT, dev.offramp.core.generate.GenerateOptions.greedy(n).withIgnoreEos(true), null)
                    .tokens();
        }
    }

    /** Positions where the model's argmax, fed F32's continuation, equals F32's next token. */
    static int teacherForced(LlamaModel m, int[] prompt, int[] reference) {
        int n = prompt.length + reference.length - 1;
        int[] toks = new int[n];
        System.arraycopy(prompt, 0, toks, 0, prompt.length);
        System.arraycopy(reference, 0, toks, prompt.length, reference.length - 1);
        int[] pos = new int[n];
        int[] rows = new int[reference.length];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
        }
        for (int i = 0; i < rows.length; i++) {
            rows[i] = prompt.length - 1 + i;
        }
        int v = m.config().vocabSize();
        float[] logits = new float[rows.length * v];
        try (ForwardState st = m.newState(512, DType.F32, 256)) {
            m.forward(st, toks, pos, n, ExitPlan.full(), rows, logits);
        }
        int agree = 0;
        for (int i = 0; i < rows.length; i++) {
            int best = 0;
            for (int j = 1; j < v; j++) {
                if (logits[i * v + j] > logits[i * v + best]) {
                    best = j;
                }
            }
            agree += best == reference[i] ? 1 : 0;
        }
        return agree;
    }
}
