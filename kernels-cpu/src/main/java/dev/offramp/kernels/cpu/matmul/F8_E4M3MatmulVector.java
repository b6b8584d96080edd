package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector FP8 E4M3FN matmul over {@link F8_E4M3MatmulScalar#pack}'s layout: byte lanes widened to int,
 * the sign and magnitude bits moved into float position, reinterpreted and multiplied by 2^120 (exact),
 * then FMA into two accumulators (chunk k into accumulator k % 2), summed and then lanes in order, so a
 * (token, row) never depends on the batch. The int species comes from a constant (as in
 * {@link F8_E4M3G128MatmulVector}) and the accumulators are locals: with {@code withLanes} and an
 * accumulator array this kernel ran the Vector API's Java fallback at ~0.3 GB/s.
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
        VectorSpecies<Byte> bs = qs.bytes();
        VectorSpecies<Integer> is = ints.species();
        int l = fs.length();
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
                IntVector iv = (IntVector) b.convertShape(VectorOperators.B2I, is, p);
                // B2I sign-extends, so lane bit 11 is the sign: one shift puts it in bit 31 and the
                // magnitude in bits 26..20; the mask clears the sign copies in bits 30..27.
                IntVector bits = iv.lanewise(VectorOperators.LSHL, 20).and(0x87F00000);
                FloatVector v = bits.reinterpretAsFloats().mul(F8_E4M3MatmulScalar.TWO_POW_120);
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
            s = Math.fma(F8_E4M3MatmulScalar.widen(w.get(java.lang.foreign.ValueLayout.JAVA_BYTE, at + c)), x[xo + c], s);
        }
        return s;
    }

    @Override
    public MatmulKernel scalar() {
        return scalar;
    }
}
