package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;

/**
 * Scalar twin of {@link Q6_KInt8MatmulVector}: Q6_K weights against {@code q8_K} activations, the
 * integer part of llama.cpp's {@code ggml_vec_dot_q6_K_q8_K}. Per super-block of 256, the exact sum
 * {@code isum = sum_j sc_j * sum_l (q_jl - 32) xq_jl} over the 16 sub-blocks of 16, then
 * {@code acc = fma(isum, d * dx, acc)}, super-block after super-block.
 */
public final class Q6_KInt8MatmulScalar extends Int8MatmulScalar {
    public Q6_KInt8MatmulScalar() {
        super(DType.Q6_K, Int8Scheme.Q8_K);
    }

    @Override
    float rowDot(MemorySegment w, long base, int cols, Int8Activations x, int t) {
        int ns = cols / 256;
        return rowDot(w, base, ns, x.quants(), t * cols, x.scales(), t * ns);
    }

    static float rowDot(MemorySegment w, long base, int ns, short[] q, int xo, float[] d, int dso) {
        float acc = 0f;
        for (int s = 0; s < ns; s++) {
            long blk = base + 210L * s;
            int isum = 0;
            for (int j = 0; j < 16; j++) {
                int dot = 0;
                for (int i = 0; i < 16; i++) {
                    dot += (quant(w, blk, 16 * j + i) - 32) * q[xo + 256 * s + 16 * j + i];
                }
                isum += QuantMatmulScalar.i8(w, blk + 192 + j) * dot;
            }
            acc = Math.fma((float) isum, QuantMatmulScalar.half(w, blk + 208) * d[dso + s], acc);
        }
        return acc;
    }

    /**
     * The 6-bit quant of value {@code v} (0..255) of the super-block at {@code blk}: sub-block
     * {@code 8h + 2k + g} covers values {@code 128h + 32k + 16g ..}; its low 4 bits are a nibble of
     * {@code ql[64h + 32 (k & 1) + l]} (high nibble for k >= 2), its high 2 bits bits {@code 2k} of
     * {@code qh[32h + l]}, with {@code l = 16g + i}.
     */
    static int quant(MemorySegment w, long blk, int v) {
        int h = v >>> 7;
        int k = (v >>> 5) & 3;
        int l = v & 31;
        int lo = (QuantMatmulScalar.u8(w, blk + 64L * h + 32L * (k & 1) + l) >>> (4 * (k >>> 1))) & 0xF;
        int hi = (QuantMatmulScalar.u8(w, blk + 128 + 32L * h + l) >>> (2 * k)) & 3;
        return lo | hi << 4;
    }
}
