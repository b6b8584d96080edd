package dev.offramp.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.synth.SynthOptions;
import dev.offramp.loader.synth.SynthShape;
import dev.offramp.loader.synth.SynthVocab;
import dev.offramp.loader.synth.SyntheticModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The end-to-end harness on models small enough for CI: it runs, and its JSON carries the fields the
 * reports and scripts read. Speed is not asserted (tests make no performance claims).
 */
class EndToEndBenchTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode runJson(String... args) throws Exception {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new BenchMain());
        cl.setOut(new PrintWriter(out));
        int rc = cl.execute(args);
        assertThat(rc).as("exit code; output: %s", out).isZero();
        return JSON.readTree(out.toString());
    }

    @Test
    void tinySyntheticModelWithoutPeerGivesJsonWithTheFields(@TempDir Path dir) throws Exception {
        SynthShape tiny = new SynthShape("tiny", 64, 2, 4, 2, 128, 256, 512, 10000f, 1e-5f, false, SynthVocab.NONE,
                false);
        Path model = dir.resolve("tiny-q8_0.gguf");
        SyntheticModel.write(SynthOptions.of(tiny, DType.Q8_0).withSeed(3), model);

        JsonNode r = runJson("--model", model.toString(), "-t", "1,2", "-r", "2", "-p", "8", "-n", "4", "--no-peer",
                "--no-progress", "--bandwidth-mb", "32", "--json");

        assertThat(r.get("prompt_tokens").asInt()).isEqualTo(8);
        assertThat(r.get("gen_tokens").asInt()).isEqualTo(4);
        assertThat(r.get("threads").asInt()).isEqualTo(2);
        // untied: the head (output.weight) is streamed, the embedding only one row per token
        assertThat(r.get("weight_bytes_per_token").asLong()).isGreaterThan(0).isLessThan(400_000);
        assertThat(r.get("offramp_decode_tps").asDouble()).isPositive();
        assertThat(r.get("offramp_prefill_tps").asDouble()).isPositive();
        assertThat(r.get("gbps").asDouble()).isPositive();
        assertThat(r.get("read_bandwidth_gbps").asDouble()).isPositive();
        assertThat(r.get("bandwidth_fraction").asDouble()).isPositive();
        assertThat(r.has("decode_ratio")).isTrue();
        assertThat(r.get("decode_ratio").isNull()).isTrue(); // no peer ran
        assertThat(r.has("prefill_ratio")).isTrue();
        assertThat(r.has("peer_build")).isTrue();
        assertThat(r.get("runs")).hasSize(2);
        for (JsonNode run : r.get("runs")) {
            JsonNode offramp = run.get("systems").get(0);
            assertThat(offramp.get("name").asText()).isEqualTo("offramp");
            assertThat(offramp.get("build").asText()).contains(run.get("threads").asInt() + " threads");
            assertThat(offramp.get("decode_samples")).hasSize(2);
            assertThat(offramp.get("prefill_samples")).hasSize(2);
        }
    }

    @Test
    void markdownAndTextNameTheBuilds(@TempDir Path dir) throws Exception {
        SynthShape tiny = new SynthShape("tiny", 64, 1, 4, 4, 128, 256, 512, 10000f, 1e-5f, true, SynthVocab.NONE,
                false);
        Path model = dir.resolve("tiny-f16.gguf");
        SyntheticModel.write(SynthOptions.of(tiny, DType.F16), model);
        for (String fmt : new String[]{"--markdown", "--seed=1"}) { // markdown, then the plain text table
            StringWriter out = new StringWriter();
            CommandLine cl = new CommandLine(new BenchMain());
            cl.setOut(new PrintWriter(out));
            assertThat(cl.execute("--model", model.toString(), "-t", "1", "-r", "1", "-p", "4", "-n", "2",
                    "--no-peer", "--no-progress", "--bandwidth-mb", "8", fmt)).isZero();
            assertThat(out.toString()).contains("offramp").contains("cpu: 1 threads");
        }
    }

    /** With the de.kherud:llama peer (child JVM) on the smallest real fixture: ratios and the peer build appear. */
    @Test
    void kherudPeerOnStories260K() throws Exception {
        Path model = Fixtures.model("stories260K.gguf");
        JsonNode r = runJson("--model", model.toString(), "-t", "1", "-r", "2", "-p", "16", "-n", "8",
                "--no-progress", "--bandwidth-mb", "32", "--peer-timeout", "60", "--json");
        assertThat(r.get("peer_build").asText()).contains("b4916").contains("de.kherud:llama");
        assertThat(r.get("peer_prefill_tps").asDouble()).isPositive();
        assertThat(r.get("prefill_ratio").asDouble()).isPositive();
        // 260K parameters decode 8 tokens faster than the peer's timing noise: null then, never absurd
        JsonNode tg = r.get("peer_decode_tps");
        assertThat(tg.isNull() || tg.asDouble() > 0 && tg.asDouble() < 1e6).as("peer tg %s", tg).isTrue();
        assertThat(r.has("decode_ratio")).isTrue();
        JsonNode peer = r.get("runs").get(0).get("systems").get(1);
        assertThat(peer.has("error")).as("peer error: %s", peer.path("error")).isFalse();
        assertThat(peer.get("decode_samples")).hasSize(2);
    }
}
