package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The k-quant mixes' per-tensor plans against llama.cpp's rules, worked out by hand (not by calling
 * the code under test) for tensor lists shaped like real models.
 */
class KQuantMixPlanTest {

    /** TinyLlama-1.1B: 22 layers, dim 2048, 32 heads / 4 KV heads (GQA 8), FFN 5632, vocab 32000, untied head. */
    static Map<String, long[]> tinyllama() {
        return llama(22, 2048, 256, 5632, 32000, true);
    }

    static Map<String, long[]> llama(int layers, int dim, int kvDim, int ffn, int vocab, boolean untied) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("token_embd.weight", new long[] {vocab, dim});
        for (int l = 0; l < layers; l++) {
            String b = "blk." + l + ".";
            m.put(b + "attn_norm.weight", new long[] {dim});
            m.put(b + "attn_q.weight", new long[] {dim, dim});
            m.put(b + "attn_k.weight", new long[] {kvDim, dim});
            m.put(b + "attn_v.weight", new long[] {kvDim, dim});
            m.put(b + "attn_output.weight", new long[] {dim, dim});
            m.put(b + "ffn_norm.weight", new long[] {dim});
            m.put(b + "ffn_gate.weight", new long[] {ffn, dim});
            m.put(b + "ffn_up.weight", new long[] {ffn, dim});
            m.put(b + "ffn_down.weight", new long[] {dim, ffn});
        }
        m.put("output_norm.weight", new long[] {dim});
        if (untied) {
            m.put("output.weight", new long[] {vocab, dim});
        }
        return m;
    }

    static Map<String, DType> plan(Map<String, long[]> tensors, QuantizeOptions o, KQuantMix.Model model) {
        boolean hasOutput = tensors.containsKey("output.weight");
        Map<String, DType> out = new LinkedHashMap<>();
        tensors.forEach((n, s) -> out.put(n, GgufQuantizer.planOne(n, s, DType.F32, o, hasOutput, model).to()));
        return out;
    }

    /** 22 layers: n/8 = 2, 7n/8 = 19, and (l - 2) % 3 == 2 in between. */
    static final Set<Integer> MORE_BITS_22 = Set.of(0, 1, 4, 7, 10, 13, 16, 19, 20, 21);

    @Test
    void q4KMOnTinyLlama() {
        Map<String, DType> p = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q4_K_M), new KQuantMix.Model(22, 22, 8));
        assertThat(p.get("output.weight")).isEqualTo(DType.Q6_K);
        assertThat(p.get("token_embd.weight")).isEqualTo(DType.Q4_K);
        assertThat(p.get("output_norm.weight")).isEqualTo(DType.F32);
        for (int l = 0; l < 22; l++) {
            DType more = MORE_BITS_22.contains(l) ? DType.Q6_K : DType.Q4_K;
            String b = "blk." + l + ".";
            assertThat(p.get(b + "attn_v.weight")).as(b + "attn_v").isEqualTo(more);
            assertThat(p.get(b + "ffn_down.weight")).as(b + "ffn_down").isEqualTo(more);
            for (String t : List.of("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up")) {
                assertThat(p.get(b + t + ".weight")).as(b + t).isEqualTo(DType.Q4_K);
            }
            assertThat(p.get(b + "attn_norm.weight")).isEqualTo(DType.F32);
        }
        long q6 = p.values().stream().filter(t -> t == DType.Q6_K).count();
        assertThat(q6).isEqualTo(2 * 10 + 1);
    }

    @Test
    void q5KMOnTinyLlamaIsQ4KMOneStepUp() {
        Map<String, DType> p = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q5_K_M), new KQuantMix.Model(22, 22, 8));
        assertThat(p.get("output.weight")).isEqualTo(DType.Q6_K);
        assertThat(p.get("token_embd.weight")).isEqualTo(DType.Q5_K);
        for (int l = 0; l < 22; l++) {
            DType more = MORE_BITS_22.contains(l) ? DType.Q6_K : DType.Q5_K;
            assertThat(p.get("blk." + l + ".attn_v.weight")).isEqualTo(more);
            assertThat(p.get("blk." + l + ".ffn_down.weight")).isEqualTo(more);
            assertThat(p.get("blk." + l + ".attn_q.weight")).isEqualTo(DType.Q5_K);
        }
    }

    @Test
    void smallMixesOnTinyLlama() {
        KQuantMix.Model m = new KQuantMix.Model(22, 22, 8);
        Map<String, DType> s4 = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q4_K_S), m);
        for (int l = 0; l < 22; l++) {
            // attn_v: first four layers Q5_K; ffn_down: first 22/8 = 2 layers Q5_K
            assertThat(s4.get("blk." + l + ".attn_v.weight")).isEqualTo(l < 4 ? DType.Q5_K : DType.Q4_K);
            assertThat(s4.get("blk." + l + ".ffn_down.weight")).isEqualTo(l < 2 ? DType.Q5_K : DType.Q4_K);
            assertThat(s4.get("blk." + l + ".attn_output.weight")).isEqualTo(DType.Q4_K);
        }
        assertThat(s4.get("output.weight")).isEqualTo(DType.Q6_K);
        Map<String, DType> s5 = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q5_K_S), m);
        assertThat(s5.entrySet()).allSatisfy(e -> assertThat(e.getValue()).as(e.getKey()).isEqualTo(
                e.getKey().equals("output.weight") ? DType.Q6_K
                        : e.getKey().contains("norm") ? DType.F32 : DType.Q5_K));
    }

    @Test
    void tiedHeadIsQ6KAndTwelveLayersUseTheirOwnEighths() {
        // stories-ee12's shape: 12 layers, dim 256, KV dim 128, FFN 768, tied embeddings.
        Map<String, DType> p = plan(llama(12, 256, 128, 768, 512, false), QuantizeOptions.of(KQuantMix.Q4_K_M),
                new KQuantMix.Model(12, 12, 2));
        assertThat(p.get("token_embd.weight")).isEqualTo(DType.Q6_K);
        Set<Integer> more = Set.of(0, 3, 6, 9, 10, 11); // n/8 = 1, 7n/8 = 10, (l - 1) % 3 == 2
        for (int l = 0; l < 12; l++) {
            DType want = more.contains(l) ? DType.Q6_K : DType.Q4_K;
            assertThat(p.get("blk." + l + ".attn_v.weight")).as("attn_v " + l).isEqualTo(want);
            assertThat(p.get("blk." + l + ".ffn_down.weight")).as("ffn_down " + l).isEqualTo(want);
        }
    }

    @Test
    void rowsThatAreNotWholeSuperBlocksFallBackToLegacyTypes() {
        // llama2.c stories15M: dim 288 (not a multiple of 256), FFN 768, 6 layers, untied head.
        Map<String, long[]> t = llama(6, 288, 288, 768, 32000, true);
        KQuantMix.Model m = new KQuantMix.Model(6, 6, 1);
        Map<String, DType> p = plan(t, QuantizeOptions.of(KQuantMix.Q4_K_M), m);
        // 6 layers: n/8 = 0, 7n/8 = 5, (l - 0) % 3 == 2: use-more-bits layers are 2 and 5
        assertThat(p.get("blk.2.attn_q.weight")).isEqualTo(DType.Q5_0);   // Q4_K -> Q5_0
        assertThat(p.get("blk.2.attn_v.weight")).isEqualTo(DType.Q8_0);   // Q6_K -> Q8_0
        assertThat(p.get("blk.5.attn_v.weight")).isEqualTo(DType.Q8_0);
        assertThat(p.get("blk.0.attn_v.weight")).isEqualTo(DType.Q5_0);   // plain Q4_K -> Q5_0
        assertThat(p.get("blk.2.ffn_down.weight")).isEqualTo(DType.Q6_K); // rows of 768: no fallback
        assertThat(p.get("blk.0.ffn_down.weight")).isEqualTo(DType.Q4_K);
        assertThat(p.get("output.weight")).isEqualTo(DType.Q8_0);         // head with rows of 288
        Map<String, DType> s5 = plan(t, QuantizeOptions.of(KQuantMix.Q5_K_S), m);
        assertThat(s5.get("blk.3.attn_q.weight")).isEqualTo(DType.Q5_1); // Q5_K -> Q5_1
        assertThat(s5.get("blk.3.ffn_gate.weight")).isEqualTo(DType.Q5_1);
        assertThat(s5.get("blk.3.ffn_down.weight")).isEqualTo(DType.Q5_K);
    }

    @Test
    void threeAndTwoBitMixesOnTinyLlama() {
        KQuantMix.Model m = new KQuantMix.Model(22, 22, 8);
        Map<String, DType> q3m = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q3_K_M), m);
        Map<String, DType> q3s = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q3_K_S), m);
        Map<String, DType> q3l = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q3_K_L), m);
        Map<String, DType> q2 = plan(tinyllama(), QuantizeOptions.of(KQuantMix.Q2_K_MIX), m);
        for (int l = 0; l < 22; l++) {
            String b = "blk." + l + ".";
            // Q3_K_M: V Q5_K on layers 0-1 else Q4_K; down Q5_K below 22/16 = 1 else Q4_K; attn_output Q4_K
            assertThat(q3m.get(b + "attn_v.weight")).isEqualTo(l < 2 ? DType.Q5_K : DType.Q4_K);
            assertThat(q3m.get(b + "ffn_down.weight")).isEqualTo(l < 1 ? DType.Q5_K : DType.Q4_K);
            assertThat(q3m.get(b + "attn_output.weight")).isEqualTo(DType.Q4_K);
            assertThat(q3m.get(b + "attn_q.weight")).isEqualTo(DType.Q3_K);
            assertThat(q3m.get(b + "ffn_up.weight")).isEqualTo(DType.Q3_K);
            assertThat(q3s.get(b + "attn_v.weight")).isEqualTo(DType.Q3_K);
            assertThat(q3s.get(b + "ffn_down.weight")).isEqualTo(DType.Q3_K);
            assertThat(q3l.get(b + "attn_v.weight")).isEqualTo(DType.Q5_K);
            assertThat(q3l.get(b + "ffn_down.weight")).isEqualTo(DType.Q5_K);
            assertThat(q3l.get(b + "attn_output.weight")).isEqualTo(DType.Q5_K);
            assertThat(q3l.get(b + "attn_k.weight")).isEqualTo(DType.Q3_K);
            // Q2_K with GQA 8: V Q4_K, down and attn_output Q3_K, the rest Q2_K
            assertThat(q2.get(b + "attn_v.weight")).isEqualTo(DType.Q4_K);
            assertThat(q2.get(b + "ffn_down.weight")).isEqualTo(DType.Q3_K);
            assertThat(q2.get(b + "attn_output.weight")).isEqualTo(DType.Q3_K);
            assertThat(q2.get(b + "ffn_gate.weight")).isEqualTo(DType.Q2_K);
        }
        for (Map<String, DType> p : List.of(q3m, q3s, q3l, q2)) {
            assertThat(p.get("output.weight")).isEqualTo(DType.Q6_K);
        }
        assertThat(q3m.get("token_embd.weight")).isEqualTo(DType.Q3_K);
        assertThat(QuantizeOptions.of(KQuantMix.Q3_K_M).fileType()).isEqualTo(12);
        // rows of 288: Q3_K falls back to Q4_0 (llama.cpp: IQ4_NL, same 4.5 bits per weight)
        Map<String, DType> small = plan(llama(6, 288, 288, 768, 32000, true), QuantizeOptions.of(KQuantMix.Q3_K_S),
                new KQuantMix.Model(6, 6, 1));
        assertThat(small.get("blk.1.attn_q.weight")).isEqualTo(DType.Q4_0);
        assertThat(small.get("blk.1.ffn_down.weight")).isEqualTo(DType.Q3_K);
    }

    @Test
    void lowBitMixRules() {
        KQuantMix.Model gqa8 = new KQuantMix.Model(32, 32, 8);
        KQuantMix.Model mha = new KQuantMix.Model(32, 32, 1);
        // Q3_K_M: V Q5_K for layers 0-1 then Q4_K; ffn_down Q5_K below n/16 = 2, else Q4_K; attn_output Q4_K
        assertThat(KQuantMix.Q3_K_M.choose("blk.1.attn_v.weight", mha).type()).isEqualTo(DType.Q5_K);
        assertThat(KQuantMix.Q3_K_M.choose("blk.2.attn_v.weight", mha).type()).isEqualTo(DType.Q4_K);
        assertThat(KQuantMix.Q3_K_M.choose("blk.1.ffn_down.weight", mha).type()).isEqualTo(DType.Q5_K);
        assertThat(KQuantMix.Q3_K_M.choose("blk.2.ffn_down.weight", mha).type()).isEqualTo(DType.Q4_K);
        assertThat(KQuantMix.Q3_K_M.choose("blk.5.attn_output.weight", mha).type()).isEqualTo(DType.Q4_K);
        assertThat(KQuantMix.Q3_K_M.choose("blk.5.attn_q.weight", mha).type()).isEqualTo(DType.Q3_K);
        assertThat(KQuantMix.Q3_K_S.choose("blk.0.attn_v.weight", mha).type()).isEqualTo(DType.Q3_K);
        assertThat(KQuantMix.Q3_K_L.choose("blk.9.ffn_down.weight", mha).type()).isEqualTo(DType.Q5_K);
        // Q2_K: V depends on GQA
        assertThat(KQuantMix.Q2_K_MIX.choose("blk.9.attn_v.weight", gqa8).type()).isEqualTo(DType.Q4_K);
        assertThat(KQuantMix.Q2_K_MIX.choose("blk.9.attn_v.weight", mha).type()).isEqualTo(DType.Q3_K);
        assertThat(KQuantMix.Q2_K_MIX.choose("blk.9.ffn_down.weight", mha).type()).isEqualTo(DType.Q3_K);
        assertThat(KQuantMix.Q2_K_MIX.choose("blk.9.ffn_up.weight", mha).type()).isEqualTo(DType.Q2_K);
        // 70B (80 layers, GQA): V goes to Q5_K where it would have been Q3_K/Q4_K, Q6_K layers stay
        KQuantMix.Model l70 = new KQuantMix.Model(80, 80, 8);
        assertThat(KQuantMix.Q4_K_M.choose("blk.40.attn_v.weight", l70).type()).isEqualTo(DType.Q5_K);
        assertThat(KQuantMix.Q4_K_M.choose("blk.0.attn_v.weight", l70).type()).isEqualTo(DType.Q6_K);
        assertThat(KQuantMix.Q4_K_M.choose("blk.40.attn_q.weight", l70).type()).isEqualTo(DType.Q4_K);
        assertThat(KQuantMix.Q3_K_S.choose("blk.40.attn_v.weight", l70).type()).isEqualTo(DType.Q5_K);
        assertThat(KQuantMix.Q2_K_MIX.choose("blk.40.attn_v.weight", l70).type()).isEqualTo(DType.Q5_K);
        assertThat(KQuantMix.Q5_K_S.choose("blk.40.attn_v.weight", l70).type()).isEqualTo(DType.Q5_K);
    }

    @Test
    void namesFileTypesAndErrors() {
        assertThat(KQuantMix.byName("q4_k_m")).contains(KQuantMix.Q4_K_M);
        assertThat(KQuantMix.byName("Q4_K")).isEmpty();      // the uniform type, not a mix
        assertThat(KQuantMix.byName("Q2_K")).isEmpty();
        assertThat(KQuantMix.byName("q2_k_mix")).contains(KQuantMix.Q2_K_MIX);
        // llama.h: Q2_K 10, Q3_K_S 11, Q3_K_M 12, Q3_K_L 13, Q4_K_S 14, Q4_K_M 15, Q5_K_S 16, Q5_K_M 17
        assertThat(List.of(KQuantMix.values()).stream().map(KQuantMix::fileType).toList())
                .containsExactly(10, 11, 12, 13, 14, 15, 16, 17);
        assertThat(QuantizeOptions.of(KQuantMix.Q4_K_M).fileType()).isEqualTo(15);
        assertThat(QuantizeOptions.of(DType.Q4_K).fileType()).isEqualTo(14);
        assertThat(LlamaFileType.name(15)).isEqualTo("Q4_K_M");
        assertThat(LlamaFileType.name(17)).isEqualTo("Q5_K_M");
        assertThatThrownBy(() -> GgufQuantizer.planOne("blk.0.attn_v.weight", new long[] {256, 256}, DType.F32,
                QuantizeOptions.of(KQuantMix.Q4_K_M), true, null))
                .hasMessageContaining("blk.0.attn_v.weight").hasMessageContaining("Q4_K_M");
        assertThatThrownBy(() -> new KQuantMix.Model(0, 0, 1)).hasMessageContaining("layers 0");
    }
}
