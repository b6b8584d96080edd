package dev.offramp.e2e;

import dev.offramp.core.Models;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.testing.ReferenceLlama;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One forward pass of the CPU backend against a float64 evaluation of the same weights
 * (dequantized by the reference codecs): max |diff| <= 1e-4 * max |logit|, at every position.
 */
class LogitsReferenceTest {

    static final int[] TOKENS = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421};

    static float[] allLogits(LlamaModel m, int[] tokens, int chunk) {
        return allLogits(m, tokens, chunk, DType.F32);
    }

    static float[] allLogits(LlamaModel m, int[] tokens, int chunk, DType kvType) {
        int n = tokens.length;
        int[] pos = new int[n];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
            rows[i] = i;
        }
        float[] out = new float[n * m.config().vocabSize()];
        try (ForwardState st = m.newState(64, kvType, chunk)) {
            m.forward(st, tokens, pos, n, ExitPlan.full(), rows, out);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"stories260K.gguf", "trained/stories-ee12-F32.gguf", "random/llama-2-tiny-random.gguf",
            "derived/stories260K-hf", "derived/stories260K-Q8_0.gguf"})
    void logitsAgreeWithFloat64(String model) throws Exception {
        try (ModelSource src = Models.open(Fixtures.model(model), null);
             Backend cpu = Models.backend("cpu", 2)) {
            LlamaModel m = LlamaModel.bind(src.config(), src.tensors(), cpu);
            float[] got = allLogits(m, TOKENS, 5);
            double[][] ref = new ReferenceLlama(src.config(), src.tensors()).logits(TOKENS);
            int v = src.config().vocabSize();
            // Q8_0 matmuls take activations rounded to int8 per 32 values (llama.cpp's arithmetic) on
            // 256- and 512-bit vectors: each activation moves by up to 1/254 of its block's largest
            boolean int8 = model.contains("Q8_0") && Int8Kernels.active();
            // an F16 KV cache rounds K/V to 11 significant bits: close, but not within the F32 bound
            assertThat(worstRatio(allLogits(m, TOKENS, 4, DType.F16), ref, v)).isBetween(1e-7, int8 ? 2e-2 : 5e-3);
            double max = 0;
            double worst = 0;
            for (int t = 0; t < ref.length; t++) {
                for (int i = 0; i < v; i++) {
                    max = Math.max(max, Math.abs(ref[t][i]));
                    worst = Math.max(worst, Math.abs(got[t * v + i] - ref[t][i]));
                }
            }
            assertThat(max).isGreaterThan(0);
            double bound = int8 ? 2e-2 : 1e-4;
            assertThat(worst).as("max |logit| %s", max).isLessThanOrEqualTo(bound * max);
        }
    }

    static double worstRatio(float[] got, double[][] ref, int v) {
        double max = 0;
        double worst = 0;
        for (int t = 0; t < ref.length; t++) {
            for (int i = 0; i < v; i++) {
                max = Math.max(max, Math.abs(ref[t][i]));
                worst = Math.max(worst, Math.abs(got[t * v + i] - ref[t][i]));
            }
        }
        return worst / max;
    }
}
