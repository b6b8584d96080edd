package dev.offramp.bench;

import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Reading {@code llama-bench -o json}: a pp and a tg entry, tokens/s in {@code avg_ts}. */
class LlamaBenchPeerTest {

    @Test
    void readsPromptAndGenerationEntriesAndTheBuild() throws IOException {
        String json = """
                [
                  {"build_commit": "abc1234", "build_number": 7001, "cpu_info": "Some CPU", "n_threads": 2,
                   "n_prompt": 128, "n_gen": 0, "avg_ts": 96.5, "stddev_ts": 1.0, "samples_ts": [96.5]},
                  {"build_commit": "abc1234", "build_number": 7001, "cpu_info": "Some CPU", "n_threads": 2,
                   "n_prompt": 0, "n_gen": 64, "avg_ts": 47.25, "stddev_ts": 0.5, "samples_ts": [47.25]}
                ]
                """;
        LlamaBenchPeer.Result r = LlamaBenchPeer.parse(json);
        assertThat(r.sample().prefillTps()).isEqualTo(96.5);
        assertThat(r.sample().decodeTps()).isEqualTo(47.25);
        assertThat(r.build()).contains("b7001").contains("abc1234").contains("Some CPU");
    }

    @Test
    void aBuildWithoutGitMetadataIsNamedAsSuch() throws IOException {
        String json = """
                [{"build_commit": "unknown", "build_number": 0, "n_prompt": 8, "n_gen": 0, "avg_ts": 10.0},
                 {"build_commit": "unknown", "build_number": 0, "n_prompt": 0, "n_gen": 8, "avg_ts": 5.0}]
                """;
        assertThat(LlamaBenchPeer.parse(json).build()).contains("no build id").doesNotContain("b0");
    }

    @Test
    void refusesOutputWithoutBothTests() {
        assertThatThrownBy(() -> LlamaBenchPeer.parse("[{\"n_prompt\": 128, \"n_gen\": 0, \"avg_ts\": 1.0}]"))
                .isInstanceOf(IOException.class).hasMessageContaining("lacks a pp or tg");
        assertThatThrownBy(() -> LlamaBenchPeer.parse("main: error: failed to load model"))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> LlamaBenchPeer.parse("{\"avg_ts\": 1}"))
                .isInstanceOf(IOException.class).hasMessageContaining("not a JSON array");
    }
}
