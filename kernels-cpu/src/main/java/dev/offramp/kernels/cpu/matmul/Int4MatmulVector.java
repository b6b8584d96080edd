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
 * Vector INT4 group-wise matmul over {@link Int4MatmulScalar#pack}'s layout. The nibbles interleave
 * even and odd columns, so each token's activations are split once per call into even and odd halves
 * per group; then a byte load gives low nibbles (even columns) and high nibbles (odd columns), each
 * minus 8, widened and FMA'd against the matching half.
 *
 * <p>512-bit: 16 bytes are zero-extended to int lanes and each nibble becomes the float {@code n - 8}
 * with no int-to-float convert ({@code n | 0x4B000000} is the float {@code 2^23 + n}; minus
 * {@code 2^23 + 8} is exact). Per group four accumulators (low/high nibbles of bytes 0-15 and 32-47,
 * then of 16-31 and 48-63), summed {@code (a0 + a1) + (a2 + a3)} and folded into a row vector with one
 * FMA by the group scale; lanes are summed once per row. Other widths: per group four accumulators,
 * summed then lanes in order; groups summed in order with the group scale. Either way the order
 * depends only on the row, never on the batch.
 */
public final class Int4MatmulVector implements MatmulKernel {

    private static final int GROUP = Int4MatmulScalar.GROUP;
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    /** {@code 2^23 + 8}: subtracted from {@code 2^23 + n} it leaves {@code n - 8}. */

    private final QuantSpecies qs;
    private final boolean wide;
    private final Int4MatmulScalar scalar = new Int4MatmulScalar();
    private final ThreadLocal<float[][]> scratch = ThreadLocal.withInitial(() -> new float[][] {new float[0], new float[64]});

    public Int4MatmulVector(VectorSpecies<Float> species) {
        this.qs = QuantSpecies.of(species);
        this.wide = species.vectorBitSize() == 512;
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
                if (wide) {
                    out[t * outStride + r] = rowDot512(w, base, groups, split, t * cols, s[1]);
                    continue;
                }
                float sum = 0f;
                for (int k = 0; k < groups; k++) {
                    float gs = groupDot(w, data + 64L * k, split, t * cols + k * Int4MatmulScalar.GROUP, s[1]);
                    sum = Math.fma(w.get(Int4MatmulScalar.F32, base + 4L * k), gs, sum);
                }
                out[t * outStride + r] = sum;
            }
        }
    }

    /** The 16-lane loop in its own small method, so C2 inlines every vector op in it (no boxing). */
    private static float rowDot512(MemorySegment w, long base, int groups, float[] split, int so, float[] tmp) {
        long data = base + 4L * groups;
        FloatVector total = FloatVector.zero(F512);
        for (int k = 0; k < groups; k++) {
            long at = data + (GROUP / 2L) * k;
            int xe = so + GROUP * k;
            FloatVector a0 = FloatVector.zero(F512);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            for (int j = 0; j < GROUP / 2; j += 32) {
                IntVector q0 = Widen512.bytes(w, at + j);
                IntVector q1 = Widen512.bytes(w, at + j + 16);
                a0 = Widen512.lowNibbleMinus8(q0).fma(FloatVector.fromArray(F512, split, xe + j), a0);
                a1 = Widen512.highNibbleMinus8(q0).fma(FloatVector.fromArray(F512, split, xe + 64 + j), a1);
                a2 = Widen512.lowNibbleMinus8(q1).fma(FloatVector.fromArray(F512, split, xe + j + 16), a2);
                a3 = Widen512.highNibbleMinus8(q1).fma(FloatVector.fromArray(F512, split, xe + 64 + j + 16), a3);
            }
            float scale = w.get(Int4MatmulScalar.F32, base + 4L * k);
            total = a0.add(a1).add(a2.add(a3)).fma(FloatVector.broadcast(F512, scale), total);
        }
        total.intoArray(tmp, 0);
        return QuantDot.sumLanes(tmp, 16);
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
