package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * Vector INT4 group-wise matmul over {@link Int4MatmulScalar#pack}'s layout. The nibbles interleave
 * even and odd columns, so each token's activations are split once per call into even and odd halves
 * per group; then a byte load gives low nibbles (even columns) and high nibbles (odd columns), each
 * minus 8, widened and FMA'd against the matching half. Per group: four accumulators, summed
 * {@code (a0 + a1) + (a2 + a3)} then lanes in order; groups are summed in order with the group scale.
 */
public final class Int4MatmulVector implements MatmulKernel {

    private final QuantSpecies qs;
    private final Int4MatmulScalar scalar = new Int4MatmulScalar();
    private final ThreadLocal<float[][]> scratch = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[64]});

    public Int4MatmulVector(VectorSpecies<Float> species) {
        this.qs = QuantSpecies.of(species);
    }

    @Override
    public DType type() {
        return DType.I4_G128;
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n, float[] out, int outStride,
                       int rowStart, int rowEnd) {
        long rb = Int4MatmulScalar.rowBytes(cols);
        F8_E4M3MatmulScalar.check(w, rb, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        float[][] s = scratch.get();
        if (s[0].length < n * cols) {
            s[0] = new float[n * cols];
        }
        float[] split = s[0];
        // per token and group: 64 even columns, then 64 odd columns
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < cols; c += 2) {
                int g = c / Int4MatmulScalar.GROUP;
                int j = (c % Int4MatmulScalar.GROUP) / 2;
                split[t * cols + g * Int4MatmulScalar.GROUP + j] = x[t * xStride + c];
                split[t * cols + g * Int4MatmulScalar.GROUP + 64 + j] = x[t * xStride + c + 1];
            }
        }
        int groups = cols / Int4MatmulScalar.GROUP;
        for (int r = rowStart; r < rowEnd; r++) {
            long base = r * rb;
            long data = base + 4L * groups;
            for (int t = 0; t < n; t++) {
                float sum = 0f;
                for (int k = 0; k < groups; k++) {
                    float gs = groupDot(w, data + 64L * k, split, t * cols + k * Int4MatmulScalar.GROUP, s[1]);
                    sum = Math.fma(w.get(Int4MatmulScalar.F32, base + 4L * k), gs, sum);
                }
                out[t * outStride + r] = sum;
            }
        }
    }

    /** Dot of 64 packed bytes (128 values) with even/odd halves at {@code xe}, {@code xe + 64}. */
    private float groupDot(MemorySegment w, long at, float[] split, int xe, float[] tmp) {
        VectorSpecies<Float> fs = qs.floats();
        VectorSpecies<Byte> bs = qs.bytes();
        int l = fs.length();
        int parts = bs.length() / l;
        int step = bs.length();
        FloatVector a0 = FloatVector.zero(fs);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (int j = 0; j < 64; j += step) {
            ByteVector b = ByteVector.fromMemorySegment(bs, w, at + j, ByteOrder.LITTLE_ENDIAN);
            ByteVector lo = b.and((byte) 0x0F).sub((byte) 8);
            ByteVector hi = b.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0F).sub((byte) 8);
            for (int p = 0; p < parts; p++) {
                FloatVector fl = (FloatVector) lo.convertShape(VectorOperators.B2F, fs, p);
                FloatVector fh = (FloatVector) hi.convertShape(VectorOperators.B2F, fs, p);
                int o = j + p * l;
                a0 = fl.fma(FloatVector.fromArray(fs, split, xe + o), a0);
                a1 = fh.fma(FloatVector.fromArray(fs, split, xe + 64 + o), a1);
            }
        }
        a0.add(a1).add(a2.add(a3)).intoArray(tmp, 0);
        return QuantDot.sumLanes(tmp, l);
    }

    @Override
    public MatmulKernel scalar() {
        return scalar;
    }
}
