package dev.offramp.core.model;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.ReferenceLlama;
import dev.offramp.core.testing.ScalarTestBackend;
import dev.offramp.core.testing.SyntheticModels;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LlamaModelTest {

    static final int[] TOKENS = {1, 5, 17, 36, 2, 9, 9, 30, 0, 21};

    static float[] prefill(LlamaModel m, int[] tokens, int chunk, ExitPlan plan) {
        int n = tokens.length;
        int v = m.config().vocabSize();
        int[] pos = new int[n];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
            rows[i] = i;
        }
        float[] out = new float[n * v];
        try (ForwardState st = m.newState(32, DType.F32, chunk)) {
            m.forward(st, tokens, pos, n, plan, rows, out);
        }
        return out;
    }

    @ParameterizedTest
    @CsvSource({"llama, true", "llama, false", "qwen2, true", "mistral, false"})
    void logitsMatchFloat64Reference(String arch, boolean tied) {
        ModelConfig c = SyntheticModels.config(arch, 3, tied);
        Map<String, Tensor> w = SyntheticModels.weights(c, 42);
        LlamaModel m = LlamaModel.bind(c, w, new ScalarTestBackend());
        float[] got = prefill(m, TOKENS, 4, ExitPlan.full());
        double[][] ref = new ReferenceLlama(c, w).logits(TOKENS);
        assertClose(got, ref, c.vocabSize());
    }

    static void assertClose(float[] got, double[][] ref, int vocab) {
        double max = 0;
        for (double[] r : ref) {
            for (double x : r) {
                max = Math.max(max, Math.abs(x));
            }
        }
        assertThat(max).isGreaterThan(0.5);
        for (int t = 0; t < ref.length; t++) {
            for (int i = 0; i < vocab; i++) {
                assertThat(Math.abs(got[t * vocab + i] - ref[t][i]))
                        .as("row %d logit %d", t, i).isLessThanOrEqualTo(1e-4 * max);
            }
        }
    }

    @Test
    void prefillEqualsTokenByTokenDecodeBitForBit() {
        ModelConfig c = SyntheticModels.config("qwen2", 2, false);
        LlamaModel m = LlamaModel.bind(c, SyntheticModels.weights(c, 7), new ScalarTestBackend());
        float[] batched = prefill(m, TOKENS, 3, ExitPlan.full());
        int v = c.vocabSize();
        try (ForwardState st = m.newState(16, DType.F32, 8)) {
            float[] one = new float[v];
            for (int t = 0; t < TOKENS.length; t++) {
                m.forward(st, new int[] {TOKENS[t]}, new int[] {t}, 1, ExitPlan.full(), new int[] {0}, one);
                for (int i = 0; i < v; i++) {
                    assertThat(Float.floatToIntBits(one[i])).isEqualTo(Float.floatToIntBits(batched[t * v + i]));
                }
            }
        }
    }

    @Test
    void stopAfterLayerEqualsTheTruncatedModelAndObserverSeesEachLayer() {
        ModelConfig c = SyntheticModels.config("llama", 3, true);
        Map<String, Tensor> w = SyntheticModels.weights(c, 3);
        LlamaModel m = LlamaModel.bind(c, w, new ScalarTestBackend());
        List<Integer> seen = new ArrayList<>();
        float[] early = prefill(m, TOKENS, 4, ExitPlan.stopAfter(0).observedBy((l, h, start, n) -> seen.add(l)));
        ModelConfig one = SyntheticModels.config("llama", 1, true);
        double[][] ref = new ReferenceLlama(one, w).logits(TOKENS);
        assertClose(early, ref, c.vocabSize());
        assertThat(seen).containsExactly(0, 0, 0); // 10 tokens in chunks of 4
        float[] full = prefill(m, TOKENS, 4, ExitPlan.full());
        assertThat(full).isNotEqualTo(early);
    }

    @Test
    void onlyRequestedRowsGetLogits() {
        ModelConfig c = SyntheticModels.config("llama", 2, true);
        LlamaModel m = LlamaModel.bind(c, SyntheticModels.weights(c, 5), new ScalarTestBackend());
        float[] all = prefill(m, TOKENS, 3, ExitPlan.full());
        int v = c.vocabSize();
        int[] pos = new int[TOKENS.length];
        for (int i = 0; i < pos.length; i++) {
            pos[i] = i;
        }
        float[] some = new float[3 * v];
        try (ForwardState st = m.newState(32, DType.F32, 3)) {
            m.forward(st, TOKENS, pos, TOKENS.length, ExitPlan.full(), new int[] {1, 2, 9}, some);
        }
        int[] rows = {1, 2, 9};
        for (int r = 0; r < 3; r++) {
            for (int i = 0; i < v; i++) {
                assertThat(some[r * v + i]).isEqualTo(all[rows[r] * v + i]);
            }
        }
    }

    @Test
    void badInputIsReportedByName() {
        ModelConfig c = SyntheticModels.config("llama", 1, true);
        Map<String, Tensor> w = new HashMap<>(SyntheticModels.weights(c, 1));
        w.remove("blk.0.ffn_up.weight");
        assertThatThrownBy(() -> LlamaModel.bind(c, w, new ScalarTestBackend()))
                .hasMessageContaining("blk.0.ffn_up.weight");
        Map<String, Tensor> w2 = new HashMap<>(SyntheticModels.weights(c, 1));
        w2.put("blk.0.attn_k.weight", SyntheticModels.tensor("blk.0.attn_k.weight", new float[16 * 16], 16, 16));
        assertThatThrownBy(() -> LlamaModel.bind(c, w2, new ScalarTestBackend()))
                .hasMessageContaining("blk.0.attn_k.weight");
        LlamaModel m = LlamaModel.bind(c, SyntheticModels.weights(c, 1), new ScalarTestBackend());
        try (ForwardState st = m.newState(4, DType.F32, 2)) {
            assertThatThrownBy(() -> m.forward(st, new int[] {99}, new int[] {0}, 1, ExitPlan.full(), new int[] {0}, new float[37]))
                    .hasMessageContaining("99");
            assertThatThrownBy(() -> m.forward(st, new int[] {1}, new int[] {4}, 1, ExitPlan.full(), new int[] {0}, new float[37]))
                    .hasMessageContaining("position 4");
        }
        ModelConfig gemma = new ModelConfig("gemma", 37, 16, 1, 4, 2, 4, 24, 64, 1e-5f, 1e4f, 4,
                RopeStyle.NORMAL, RopeScaling.NONE, true, false, false, false);
        assertThatThrownBy(() -> LlamaModel.bind(gemma, SyntheticModels.weights(c, 1), new ScalarTestBackend()))
                .hasMessageContaining("gemma");
    }

    @Test
    void forwardFromSavedHiddenStatesEqualsTheFullPassBitForBit() {
        ModelConfig c = SyntheticModels.config("qwen2", 4, false);
        ScalarTestBackend be = new ScalarTestBackend();
        LlamaModel m = LlamaModel.bind(c, SyntheticModels.weights(c, 9), be);
        int n = TOKENS.length;
        int v = c.vocabSize();
        int[] pos = new int[n];
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) {
            pos[i] = i;
            rows[i] = i;
        }
        dev.offramp.core.backend.Activations saved = be.allocate(n, c.dim());
        float[] full = new float[n * v];
        try (ForwardState st = m.newState(32, DType.F32, 4)) {
            m.forward(st, TOKENS, pos, n, ExitPlan.full().observedBy((l, h, start, count) -> {
                if (l == 1) {
                    be.copyRows(h, 0, saved, start, count);
                }
            }), rows, full);
        }
        float[] resumed = new float[n * v];
        try (ForwardState st = m.newState(32, DType.F32, 3)) {
            m.forwardFrom(st, 2, saved, 0, pos, n, ExitPlan.full(), rows, resumed);
        }
        assertThat(resumed).isEqualTo(full);
        assertThatThrownBy(() -> m.forwardFrom(m.newState(8, DType.F32, 2), 2, saved, 5, pos, n, ExitPlan.full(), rows, resumed))
                .hasMessageContaining("hidden states");
    }

    @ParameterizedTest
    @CsvSource({"llama3, 4", "linear, 4", "none, 2", "linear, 2"})
    void ropeScalingAndPartialRotaryMatchFloat64Reference(String scaling, int ropeDim) {
        RopeScaling sc = switch (scaling) {
            // original context 1000: wavelengths 6.3 (kept) and 628 (in the smoothed band between 250 and 1000)
            case "llama3" -> new RopeScaling.Llama3(8f, 1f, 4f, 1000);
            case "linear" -> new RopeScaling.Linear(4f);
            default -> RopeScaling.NONE;
        };
        ModelConfig c = new ModelConfig("llama", 37, 16, 2, 4, 2, 4, 24, 64, 1e-5f, 10000f, ropeDim,
                RopeStyle.NEOX, sc, true, false, false, false);
        Map<String, Tensor> w = SyntheticModels.weights(c, 17);
        LlamaModel m = LlamaModel.bind(c, w, new ScalarTestBackend());
        assertClose(prefill(m, TOKENS, 4, ExitPlan.full()), new ReferenceLlama(c, w).logits(TOKENS), c.vocabSize());
        if (sc != RopeScaling.NONE) {
            ModelConfig plain = new ModelConfig("llama", 37, 16, 2, 4, 2, 4, 24, 64, 1e-5f, 10000f, ropeDim,
                    RopeStyle.NEOX, RopeScaling.NONE, true, false, false, false);
            assertThat(prefill(LlamaModel.bind(plain, w, new ScalarTestBackend()), TOKENS, 4, ExitPlan.full()))
                    .isNotEqualTo(prefill(m, TOKENS, 4, ExitPlan.full()));
        }
    }
}
