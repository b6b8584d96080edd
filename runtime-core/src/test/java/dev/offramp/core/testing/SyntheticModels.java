package dev.offramp.core.testing;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.RopeScaling;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/** Seeded random F32 weights in GGUF naming for a given config: tiny models for unit tests. */
public final class SyntheticModels {
    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private SyntheticModels() {
    }

    /** A small GQA config; {@code qwen2} gets NeoX RoPE and q/k/v biases. */
    public static ModelConfig config(String arch, int layers, boolean tied) {
        boolean qwen = arch.equals("qwen2");
        return new ModelConfig(arch, 37, 16, layers, 4, 2, 4, 24, 64, 1e-5f, 10000f, 4,
                qwen ? RopeStyle.NEOX : RopeStyle.NORMAL, RopeScaling.NONE, tied, qwen, false, false);
    }

    public static Map<String, Tensor> weights(ModelConfig c, long seed) {
        Random rnd = new Random(seed);
        Map<String, Tensor> m = new HashMap<>();
        int d = c.dim();
        put(m, "token_embd.weight", rnd, 1.0f, c.vocabSize(), d);
        if (!c.tiedEmbeddings()) {
            put(m, "output.weight", rnd, 0.3f, c.vocabSize(), d);
        }
        norm(m, "output_norm.weight", rnd, d);
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            norm(m, p + "attn_norm.weight", rnd, d);
            norm(m, p + "ffn_norm.weight", rnd, d);
            put(m, p + "attn_q.weight", rnd, 0.4f, c.qDim(), d);
            put(m, p + "attn_k.weight", rnd, 0.4f, c.kvDim(), d);
            put(m, p + "attn_v.weight", rnd, 0.4f, c.kvDim(), d);
            put(m, p + "attn_output.weight", rnd, 0.3f, d, c.qDim());
            put(m, p + "ffn_gate.weight", rnd, 0.3f, c.ffnDim(), d);
            put(m, p + "ffn_up.weight", rnd, 0.3f, c.ffnDim(), d);
            put(m, p + "ffn_down.weight", rnd, 0.3f, d, c.ffnDim());
            if (c.attentionBias()) {
                put(m, p + "attn_q.bias", rnd, 0.2f, c.qDim());
                put(m, p + "attn_k.bias", rnd, 0.2f, c.kvDim());
                put(m, p + "attn_v.bias", rnd, 0.2f, c.kvDim());
            }
        }
        return m;
    }

    private static void norm(Map<String, Tensor> m, String name, Random rnd, int d) {
        float[] v = new float[d];
        for (int i = 0; i < d; i++) {
            v[i] = 0.8f + 0.4f * rnd.nextFloat();
        }
        m.put(name, tensor(name, v, d));
    }

    private static void put(Map<String, Tensor> m, String name, Random rnd, float scale, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        m.put(name, tensor(name, v, shape));
    }

    public static Tensor tensor(String name, float[] v, long... shape) {
        MemorySegment seg = Arena.ofAuto().allocate(4L * v.length, 4);
        for (int i = 0; i < v.length; i++) {
            seg.setAtIndex(LE, i, v[i]);
        }
        return new Tensor(name, DType.F32, shape, seg);
    }
}
