package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Vector FP8 E4M3FN matmul over {@link F8_E4M3MatmulScalar#pack}'s layout: byte lanes sign-extended to
 * int and widened exactly by {@link MinifloatWiden#e4m3} (no float subnormals, so no x86 assists on
 * subnormal codes), then FMA into two accumulators (chunk k into accumulator k % 2), summed and then
 * lanes in order, so a (token, row) never depends on the batch. The int species comes from a constant
 * (as in {@link F8_E4M3G128MatmulVector}) and the accumulators are locals: with {@code withLanes} and
 * an accumulator array this kernel ran the Vector API's Java fallback at ~0.3 GB/s. At 512 bits the
 * row loop is a static method of its own, bounded with {@code !=} so that C2 does not unroll it (see
 * {@link F8_E4M3G128MatmulVector}).
 */
public final class F8_E4M3MatmulVector implements MatmulKernel {

    private final QuantSpecies qs;
    private final F8_E4M3G128MatmulVector.Ints ints;
    private final F8_E4M3MatmulScalar scalar = new F8_E4M3MatmulScalar();
    private final ThreadLocal<float[]> lanes = ThreadLocal.withInitial(() -> new float[64]);

    public F8_E4M3MatmulVector(VectorSpecies<Float> species) {
        this.qs = QuantSpecies.of(species);
        this.ints = F8_E4M3G128MatmulVector.Ints.of(species);
    }

    @Override
    public DType type() {
        return DType.F8_E4M3;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] out, int outStride,
                       int rowStart, int rowEnd) {
        long rb = F8_E4M3MatmulScalar.rowBytes(cols);
        F8_E4M3MatmulScalar.check(w, rb, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        float[] tmp = lanes.get();
        if (n == 1 && qs.floats().length() == 16) {
            rows512(w, rb, cols, x, out, rowStart, rowEnd, tmp);
            return;
        }
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            float scale = w.get(F8_E4M3MatmulScalar.F32, base);
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = rowDot(w, base + 4, cols, x, t * xStride, tmp) * scale;
            }
        }
    }

    private float rowDot(MemorySegment w, long at, int cols, float[] x, int xo, float[] tmp) {
        VectorSpecies<Float> fs = qs.floats();
        int l = fs.length();
        if (l == 16) {
            return rowDot512(w, at, cols, x, xo, tmp);
        }
        VectorSpecies<Byte> bs = qs.bytes();
        VectorSpecies<Integer> is = ints.species();
        int parts = bs.length() / l;
        int step = bs.length();
        // Locals, not an array: vectors kept in an array are heap objects (each FMA allocates).
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        int chunk = 0;
        int c = 0;
        for (; c + step <= cols; c += step) {
            ByteVector b = ByteVector.fromMemorySegment(bs, w, at + c, ByteOrder.LITTLE_ENDIAN);
            for (int p = 0; p < parts; p++) {
                FloatVector v = MinifloatWiden.e4m3((IntVector) b.convertShape(VectorOperators.B2I, is, p));
                FloatVector xv = FloatVector.fromArray(fs, x, xo + c + p * l);
                if ((chunk++ & 1) == 0) {
                    a0 = v.fma(xv, a0);
                } else {
                    a1 = v.fma(xv, a1);
                }
            }
        }
        a0.add(a1).intoArray(tmp, 0);
        float s = QuantDot.sumLanes(tmp, l);
        for (; c < cols; c++) {
            s = Math.fma(F8_E4M3MatmulScalar.widen(w.get(ValueLayout.JAVA_BYTE, at + c)), x[xo + c], s);
        }
        return s;
    }

    /** One token at 512 bits, the row loop in a static method of its own (as in {@link F8_E4M3G128MatmulVector}). */
    private static void rows512(MemorySegment w, long rb, int cols, float[] x, float[] out, int rowStart, int rowEnd,
                                float[] tmp) {
        for (int r = rowStart; r < rowEnd; r++) {
            out[r] = rowDot512(w, r * rb + 4, cols, x, 0, tmp) * w.get(F8_E4M3MatmulScalar.F32, r * rb);
        }
    }

    /** {@link #rowDot} at 512 bits: same chunks, accumulators and order (chunk k into a(k % 2)). */
    private static float rowDot512(MemorySegment w, long at, int cols, float[] x, int xo, float[] tmp) {
        VectorSpecies<Float> fs = FloatVector.SPECIES_512;
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        int pairs = cols & ~31;
        int c = 0;
        for (; c != pairs; c += 32) {
            a0 = MinifloatWiden.e4m3(F8_E4M3G128MatmulVector.signedBytes(w, at + c)).fma(FloatVector.fromArray(fs, x, xo + c), a0);
            a1 = MinifloatWiden.e4m3(F8_E4M3G128MatmulVector.signedBytes(w, at + c + 16)).fma(FloatVector.fromArray(fs, x, xo + c + 16), a1);
        }
        if (c + 16 <= cols) {
            a0 = MinifloatWiden.e4m3(F8_E4M3G128MatmulVector.signedBytes(w, at + c)).fma(FloatVector.fromArray(fs, x, xo + c), a0);
            c += 16;
        }
        a0.add(a1).intoArray(tmp, 0);
        float s = QuantDot.sumLanes(tmp, 16);
        for (; c < cols; c++) {
            s = Math.fma(F8_E4M3MatmulScalar.widen(w.get(ValueLayout.JAVA_BYTE, at + c)), x[xo + c], s);
        }
        return s;
    }

    @Override
    public MatmulKernel scalar() {
        return scalar;
    }
}
