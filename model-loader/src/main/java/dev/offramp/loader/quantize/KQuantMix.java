package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufMetadata;

import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * llama.cpp's k-quant "mixes" — the file types people download ({@code Q4_K_M}, {@code Q5_K_S}, ...):
 * a base k-quant for most 2-D weights, with the tensors quantization hurts most given more bits.
 * The per-tensor choices follow llama.cpp's {@code llama_tensor_get_type} for dense (non-MoE, non-Falcon)
 * models; every choice is a row of {@link #RULES} (first match per tensor wins) plus the head and
 * fallback rules in {@link GgufQuantizer}.
 *
 * <pre>{@code
 * QuantizeOptions o = QuantizeOptions.of(KQuantMix.Q4_K_M);
 * GgufQuantizer.write(src, GgufQuantizer.plan(src, o), o, out, null);   // general.file_type = 15
 * }</pre>
 *
 * Not covered (not in our runtime's model families): the MoE rules (8 experts: attn_v/attn_k Q8_0,
 * attn_output Q5_K) and Falcon's ffn_down/attn_output variants.
 */
public enum KQuantMix {
    /** 2-bit base; V, FFN-down and attention output get 3-4 bits (llama-quantize's {@code Q2_K}). */
    Q2_K_MIX("Q2_K", 10, DType.Q2_K),
    Q3_K_S("Q3_K_S", 11, DType.Q3_K),
    Q3_K_M("Q3_K_M", 12, DType.Q3_K),
    Q3_K_L("Q3_K_L", 13, DType.Q3_K),
    Q4_K_S("Q4_K_S", 14, DType.Q4_K),
    Q4_K_M("Q4_K_M", 15, DType.Q4_K),
    Q5_K_S("Q5_K_S", 16, DType.Q5_K),
    Q5_K_M("Q5_K_M", 17, DType.Q5_K);

    private final String label;
    private final int fileType;
    private final DType base;

    KQuantMix(String label, int fileType, DType base) {
        this.label = label;
        this.fileType = fileType;
        this.base = base;
    }

    /** The name llama-quantize uses ({@code Q4_K_M}; {@code Q2_K} for {@link #Q2_K_MIX}). */
    public String label() {
        return label;
    }

    /** llama.cpp's {@code llama_ftype} number, written as {@code general.file_type}. */
    public int fileType() {
        return fileType;
    }

    /** The type of every quantized weight no rule picks out. */
    public DType base() {
        return base;
    }

    /** Whether this build can write every type the mix may choose (Q2_K/Q3_K need their quantizers). */
    public boolean available() {
        return RowCodec.canEncode(base) && (this != Q2_K_MIX || RowCodec.canEncode(DType.Q3_K));
    }

    /**
     * A mix by llama-quantize's name ({@code q4_k_m}, case-insensitive); {@code Q2_K} is not looked up
     * here because {@code --type Q2_K} means the uniform type, so the 2-bit mix is {@code Q2_K_MIX}.
     */
    public static java.util.Optional<KQuantMix> byName(String s) {
        String u = s.toUpperCase(Locale.ROOT);
        for (KQuantMix m : values()) {
            if (m.name().equals(u) || (m != Q2_K_MIX && m.label.equals(u))) {
                return java.util.Optional.of(m);
            }
        }
        return java.util.Optional.empty();
    }

    /**
     * What the rules need to know about the model besides a tensor's name.
     *
     * @param layers          {@code n_layer} (ffn_down's layer count)
     * @param attentionLayers number of attention V tensors ({@code attn_v} or fused {@code attn_qkv}),
     *                        attn_v's layer count
     * @param gqa             query heads per KV head
     */
    public record Model(int layers, int attentionLayers, int gqa) {

        public Model {
            if (layers <= 0 || attentionLayers < 0 || gqa <= 0) {
                throw new IllegalArgumentException("bad model shape for a k-quant mix: layers " + layers
                        + ", attention layers " + attentionLayers + ", gqa " + gqa);
            }
        }

        /** From GGUF metadata ({@code <arch>.block_count}, head counts) and the tensor names. */
        public static Model of(GgufFile f) {
            GgufMetadata md = f.metadata();
            String arch = md.getString("general.architecture", "llama");
            int maxBlock = -1;
            int attnV = 0;
            for (String n : f.tensors().keySet()) {
                maxBlock = Math.max(maxBlock, layerOf(n));
                if (n.contains("attn_v.weight") || n.contains("attn_qkv.weight")) {
                    attnV++;
                }
            }
            int layers = md.getInt(arch + ".block_count", maxBlock + 1);
            if (layers <= 0) {
                throw new IllegalArgumentException(f.name() + ": no " + arch + ".block_count and no blk.N tensors;"
                        + " a k-quant mix needs the layer count");
            }
            int heads = firstInt(md, arch + ".attention.head_count", 1);
            int kvHeads = firstInt(md, arch + ".attention.head_count_kv", heads);
            return new Model(layers, attnV, kvHeads > 0 ? Math.max(1, heads / kvHeads) : 1);
        }

        private static int firstInt(GgufMetadata md, String key, int dflt) {
            if (!md.contains(key)) {
                return dflt;
            }
            try {
                return md.getInt(key);
            } catch (RuntimeException perLayerArray) {
                int[] a = md.getIntArray(key);
                return a.length == 0 ? dflt : a[0];
            }
        }
    }

    /** The type a mix gives tensor {@code name}, with the reason, before head/embedding and fallback rules. */
    public record Choice(DType type, String reason) {
    }

    /**
     * The mix's choice for a 2-D weight that is neither the output head nor the token embedding.
     * Layer positions come from the {@code blk.N.} prefix: llama.cpp counts attn_v / ffn_down tensors in
     * layer order, which for one such tensor per block is the block index.
     */
    public Choice choose(String name, Model model) {
        int layer = layerOf(name);
        for (Rule r : RULES) {
            if (r.mixes.contains(this) && name.contains(r.role) && r.where.test(layer, model)) {
                DType t = r.type.apply(layer, model);
                return new Choice(t, label + ": " + r.why);
            }
        }
        return new Choice(base, "");
    }

    /** {@code blk.N.} of a tensor name, or -1. */
    static int layerOf(String name) {
        if (!name.startsWith("blk.")) {
            return -1;
        }
        int end = name.indexOf('.', 4);
        try {
            return end < 0 ? -1 : Integer.parseInt(name, 4, end, 10);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    // ---- the rule table -------------------------------------------------------------------------

    /** A type that may depend on the layer and the model (e.g. GQA). */
    private interface TypeFn {
        DType apply(int layer, Model m);

        static TypeFn of(DType t) {
            return (l, m) -> t;
        }
    }

    private record Rule(Set<KQuantMix> mixes, String role, BiPredicate<Integer, Model> where, TypeFn type, String why) {
    }

    /**
     * llama.cpp's "use_more_bits": the first and last eighth of the layers and every third layer in
     * between — the layers whose quantization error moved perplexity most in its k-quant experiments.
     */
    static boolean useMoreBits(int layer, int n) {
        return layer < n / 8 || layer >= 7 * n / 8 || (layer - n / 8) % 3 == 2;
    }

    private static final BiPredicate<Integer, Model> EVERY = (l, m) -> true;
    private static final BiPredicate<Integer, Model> V_MORE_BITS = (l, m) -> useMoreBits(l, m.attentionLayers());
    private static final BiPredicate<Integer, Model> DOWN_MORE_BITS = (l, m) -> useMoreBits(l, m.layers());

    /** llama.cpp's 70B Llama (80 layers with GQA): V is 8x smaller than Q there, so more bits cost little. */
    private static boolean is70b(Model m) {
        return m.layers() == 80 && m.gqa() > 1;
    }

    private static TypeFn with70bBump(DType t) {
        return (l, m) -> is70b(m) && (t == DType.Q3_K || t == DType.Q4_K) ? DType.Q5_K : t;
    }

    private static Set<KQuantMix> mixes(KQuantMix first, KQuantMix... rest) {
        return EnumSet.of(first, rest);
    }

    /** First match wins; a tensor no row matches gets the mix's base type. */
    private static final List<Rule> RULES = List.of(
            // --- attention V: small (GQA) and sensitive, so it is the cheapest place to spend bits.
            new Rule(mixes(Q2_K_MIX), "attn_v.weight", EVERY,
                    (l, m) -> with70bBump(m.gqa() >= 4 ? DType.Q4_K : DType.Q3_K).apply(l, m),
                    "attn_v: 2-bit V ruins attention; Q4_K when >= 4 query heads share it (GQA), else Q3_K"),
            new Rule(mixes(Q3_K_M), "attn_v.weight", (l, m) -> l < 2, with70bBump(DType.Q5_K),
                    "attn_v of the first two layers at Q5_K"),
            new Rule(mixes(Q3_K_M), "attn_v.weight", EVERY, with70bBump(DType.Q4_K),
                    "attn_v one step above the base (Q4_K)"),
            new Rule(mixes(Q3_K_L), "attn_v.weight", EVERY, TypeFn.of(DType.Q5_K),
                    "attn_v at Q5_K"),
            new Rule(mixes(Q4_K_M, Q5_K_M), "attn_v.weight", V_MORE_BITS, TypeFn.of(DType.Q6_K),
                    "attn_v on a use-more-bits layer (first/last 1/8, every third between) at Q6_K"),
            new Rule(mixes(Q4_K_S), "attn_v.weight", (l, m) -> l < 4, TypeFn.of(DType.Q5_K),
                    "attn_v of the first four layers at Q5_K"),
            new Rule(mixes(Q3_K_S, Q4_K_S, Q4_K_M), "attn_v.weight", (l, m) -> is70b(m), TypeFn.of(DType.Q5_K),
                    "70B: attn_v is 8x smaller than attn_q, Q5_K costs almost nothing"),
            // --- FFN down: its input is the SwiGLU product, whose outliers make it the most sensitive FFN matrix.
            new Rule(mixes(Q2_K_MIX), "ffn_down", EVERY, TypeFn.of(DType.Q3_K),
                    "ffn_down at Q3_K"),
            new Rule(mixes(Q3_K_M), "ffn_down", (l, m) -> l < m.layers() / 16, TypeFn.of(DType.Q5_K),
                    "ffn_down of the first 1/16 of the layers at Q5_K"),
            new Rule(mixes(Q3_K_M), "ffn_down", EVERY, TypeFn.of(DType.Q4_K),
                    "ffn_down at Q4_K"),
            new Rule(mixes(Q3_K_L), "ffn_down", EVERY, TypeFn.of(DType.Q5_K),
                    "ffn_down at Q5_K"),
            new Rule(mixes(Q4_K_M, Q5_K_M), "ffn_down", DOWN_MORE_BITS, TypeFn.of(DType.Q6_K),
                    "ffn_down on a use-more-bits layer (first/last 1/8, every third between) at Q6_K"),
            new Rule(mixes(Q4_K_S), "ffn_down", (l, m) -> l < m.layers() / 8, TypeFn.of(DType.Q5_K),
                    "ffn_down of the first 1/8 of the layers at Q5_K"),
            // --- attention output: only the 2-3 bit mixes lift it (at 4+ bits it is not the bottleneck).
            new Rule(mixes(Q2_K_MIX), "attn_output.weight", EVERY, TypeFn.of(DType.Q3_K),
                    "attn_output at Q3_K"),
            new Rule(mixes(Q3_K_M), "attn_output.weight", EVERY, TypeFn.of(DType.Q4_K),
                    "attn_output at Q4_K"),
            new Rule(mixes(Q3_K_L), "attn_output.weight", EVERY, TypeFn.of(DType.Q5_K),
                    "attn_output at Q5_K"),
            // --- fused QKV (phi/gpt-style files): holds V, so it gets V's extra bits across the board.
            new Rule(mixes(Q3_K_M, Q3_K_L), "attn_qkv.weight", EVERY, TypeFn.of(DType.Q4_K),
                    "fused attn_qkv at Q4_K"),
            new Rule(mixes(Q4_K_M), "attn_qkv.weight", EVERY, TypeFn.of(DType.Q5_K),
                    "fused attn_qkv at Q5_K"),
            new Rule(mixes(Q5_K_M), "attn_qkv.weight", EVERY, TypeFn.of(DType.Q6_K),
                    "fused attn_qkv at Q6_K"));
}
