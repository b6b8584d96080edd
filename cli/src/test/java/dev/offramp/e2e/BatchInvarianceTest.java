package dev.offramp.e2e;

import dev.offramp.core.Models;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A token's logits must not depend on its batch or the thread count: chunked prefill, one-token
 * decode, 1, 2 and 3 threads (uneven row splits) all give the same bits (what makes speculative decoding lossless).
 */
class BatchInvarianceTest {

    static final int[] TOKENS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267};

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "trained/stories-ee12-Q4_0.gguf", "derived/stories260K-Q8_0.gguf",
            "random/llama-2-tiny-random.gguf"})
    void prefillDecodeAndThreadCountsAgreeBitForBit(String model) throws Exception {
        try (ModelSource src = Models.open(Fixtures.model(model), null);
             Backend one = Models.backend("cpu", 1);
             Backend two = Models.backend("cpu", 2);
             Backend three = Models.backend("cpu", 3)) {
            int v = src.config().vocabSize();
            int n = TOKENS.length;
            float[] prefill7 = LogitsReferenceTest.allLogits(LlamaModel.bind(src.config(), src.tensors(), two), TOKENS, 7);
            float[] prefill1t = LogitsReferenceTest.allLogits(LlamaModel.bind(src.config(), src.tensors(), one), TOKENS, 64);
            float[] prefill3t = LogitsReferenceTest.allLogits(LlamaModel.bind(src.config(), src.tensors(), three), TOKENS, 3);
            LlamaModel m = LlamaModel.bind(src.config(), src.tensors(), two);
            float[] decode = new float[n * v];
            float[] row = new float[v];
            try (ForwardState st = m.newState(64, DType.F32, 16)) {
                for (int t = 0; t < n; t++) {
                    m.forward(st, new int[] {TOKENS[t]}, new int[] {t}, 1, ExitPlan.full(), new int[] {0}, row);
                    System.arraycopy(row, 0, decode, t * v, v);
                }
            }
            for (int i = 0; i < n * v; i++) {
                int bits = Float.floatToRawIntBits(decode[i]);
                assertThat(Float.floatToRawIntBits(prefill7[i])).as("prefill vs decode at %d", i).isEqualTo(bits);
                assertThat(Float.floatToRawIntBits(prefill1t[i])).as("1 vs 2 threads at %d", i).isEqualTo(bits);
                assertThat(Float.floatToRawIntBits(prefill3t[i])).as("3 vs 2 threads at %d", i).isEqualTo(bits);
            }
        }
    }
}
