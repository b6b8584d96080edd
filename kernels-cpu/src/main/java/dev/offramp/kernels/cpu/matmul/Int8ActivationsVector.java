package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Int8Activations#quantize} on the repacked kernels' vectors (256 or 512 bits), the same bits.
 * {@code q8_0}: a block is two or four vectors, the product {@code x * (127 / amax)} is the scalar
 * one. Both rules round through the float adder ({@link Int8Activations#nearestInt}), per lane as in
 * C. Why: the scalar quantizer runs on the calling thread before the rows are split, and at prefill (128
 * tokens of up to 5632 values per matmul) it cost ~5% of one thread's prefill and more of two threads'.
 */
final class Int8ActivationsVector {
    private static final VectorSpecies<Float> F = Int8RowGroupKernel.F;
    private static final VectorSpecies<Integer> I = Int8RowGroupKernel.I;
    /** As many shorts as {@link #F} has floats. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(16 * F.length()));
    private static final int L = F.length();

    private Int8ActivationsVector() {
    }

    static void quantize(Int8Activations a, float[] x, int xStride, int n, int cols) {
        a.reset(x, xStride, n, cols);
        short[] q = a.quants();
        float[] d = a.scales();
        int[] sum = a.sums();
        int nb = cols / Int8Activations.BLOCK;
        if (a.scheme() == Int8Scheme.Q8_K) {
            for (int t = 0; t < n; t++) {
                for (int b = 0; b < cols / 256; b++) {
                    quantizeK(x, t * xStride + 256 * b, q, t * cols + 256 * b, d, t * (cols / 256) + b, sum, t * nb + 8 * b);
                }
            }
            return;
        }
        float[] qf = a.hasFloatQuants() ? a.floatQuants() : null;
        for (int t = 0; t < n; t++) {
            for (int b = 0; b < nb; b++) {
                int from = t * xStride + 32 * b;
                int to = t * cols + 32 * b;
                // max keeps a NaN, as Math.max does in the scalar loop
                FloatVector m = FloatVector.fromArray(F, x, from).abs();
                for (int c = L; c < 32; c += L) {
                    m = m.max(FloatVector.fromArray(F, x, from + c).abs());
                }
                float amax = m.reduceLanes(VectorOperators.MAX);
                float inv = Int8Activations.multiplier(amax);
                IntVector total = IntVector.zero(I);
                for (int c = 0; c < 32; c += L) {
                    IntVector r = nearestInt(FloatVector.fromArray(F, x, from + c).mul(inv));
                    ((ShortVector) r.convertShape(VectorOperators.I2S, S, 0)).intoArray(q, to + c);
                    if (qf != null) {
                        ((FloatVector) r.convert(VectorOperators.I2F, 0)).intoArray(qf, to + c);
                    }
                    total = total.add(r);
                }
                d[t * nb + b] = Int8Activations.scale(amax);
                sum[t * nb + b] = total.reduceLanes(VectorOperators.ADD);
            }
        }
    }

    /** {@link Int8Activations}'s {@code q8_K} block, vectorized: the same first value of largest magnitude, the same bits. */
    private static void quantizeK(float[] x, int from, short[] q, int to, float[] d, int block, int[] sum, int sums) {
        FloatVector m = FloatVector.zero(F);
        for (int c = 0; c < 256; c += L) {
            m = m.max(FloatVector.fromArray(F, x, from + c).abs());
        }
        float amax = m.reduceLanes(VectorOperators.MAX);
        // the first value of largest magnitude (none for a NaN amax: the scale is then infinite)
        float max = 0f;
        for (int c = 0; c < 256; c += L) {
            var hit = FloatVector.fromArray(F, x, from + c).abs().compare(VectorOperators.EQ, amax);
            if (hit.anyTrue()) {
                max = x[from + c + hit.firstTrue()];
                break;
            }
        }
        float iscale = -127f / max;
        if (amax != amax || Float.isInfinite(iscale)) {
            Int8Activations.zeroBlockK(q, to, sum, sums, d, block, amax != amax);
            return;
        }
        for (int j = 0; j < 8; j++) {
            IntVector total = IntVector.zero(I);
            for (int c = 32 * j; c < 32 * j + 32; c += L) {
                IntVector r = nearestInt(FloatVector.fromArray(F, x, from + c).mul(iscale)).min(127);
                ((ShortVector) r.convertShape(VectorOperators.I2S, S, 0)).intoArray(q, to + c);
                total = total.add(r);
            }
            sum[sums + j] = total.reduceLanes(VectorOperators.ADD);
        }
        d[block] = 1f / iscale;
    }

    /** {@link Int8Activations#nearestInt} per lane: round half to even through the float adder. */
    private static IntVector nearestInt(FloatVector v) {
        return v.add(12582912f).reinterpretAsInts().and(0x007FFFFF).sub(0x00400000);
    }
}
