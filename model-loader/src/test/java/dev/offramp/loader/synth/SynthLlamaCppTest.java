package dev.offramp.loader.synth;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.LlamaCppPeer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Synthetic models load in llama.cpp (the de.kherud peer, run in a child JVM) with their borrowed vocabularies. */
class SynthLlamaCppTest {

    @TempDir
    Path tmp;

    /**
     * Weights are seeded per tensor name, so a 4-layer model whose layers 2 and 3 are inert must
     * generate exactly what the 2-layer model of the same seed generates — in llama.cpp too.
     */
    @Test
    void inertLayersChangeNothingInLlamaCpp() throws Exception {
        SynthShape four = new SynthShape("spm-small", 64, 4, 4, 2, 128, 32000, 256, 10000f, 1e-5f, false,
                SynthVocab.LLAMA2_SPM, false);
        Path vocab = Fixtures.model("llama.cpp-vocab/ggml-vocab-llama-spm.gguf");
        Path inert = tmp.resolve("inert.gguf");
        Path two = tmp.resolve("two.gguf");
        SynthOptions o = SynthOptions.of(four, DType.Q8_0).withSeed(21).withVocabFile(vocab);
        SyntheticModel.write(o.withInertFrom(2), inert);
        SyntheticModel.write(new SynthOptions(four.withLayers(2), DType.Q8_0, null, null, 21, -1, vocab), two);
        String a = LlamaCppPeer.greedy(inert, "Once upon a time", 12);
        String b = LlamaCppPeer.greedy(two, "Once upon a time", 12);
        // (weights are random but not degenerate: SyntheticModelTest checks their spread)
        assertThat(a).isNotBlank().isEqualTo(b);
    }

    @Test
    void llama3VocabularyAndRopeFreqsLoad() throws Exception {
        SynthShape s = new SynthShape("bpe-small", 64, 2, 4, 2, 128, 128256, 1024, 500000f, 1e-5f, true,
                SynthVocab.LLAMA3_BPE, true);
        Path out = tmp.resolve("l3.gguf");
        SyntheticModel.write(SynthOptions.of(s, DType.F16).withSeed(1)
                .withVocabFile(Fixtures.model("random/tiny-llama3-vocab.gguf")), out);
        // llama.cpp tokenizes with the copied Llama 3 vocabulary: "Hello" is one token there.
        assertThat(LlamaCppPeer.encode(out, "Hello world")).containsExactly(9906, 1917);
    }
}
