package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The int8-activation kernels (Q4_0, Q4_K, Q6_K, Q8_0): each 32-rows-per-vector kernel against its scalar
 * twin bit for bit (any batch, any row split, partial groups, another segment, non-finite scales),
 * and each twin against float arithmetic within what rounding the activations to int8 can move.
 */
class Int8MatmulTest {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    enum Kind {
        Q4_0(DType.Q4_0, new Q4_0Int8MatmulScalar()),
        Q4_K(DType.Q4_K, new Q4_KInt8MatmulScalar()),
        Q6_K(DType.Q6_K, new Q6_KInt8MatmulScalar()),
        Q8_0(DType.Q8_0, new Q8_0Int8MatmulScalar());

        final DType type;
        final MatmulKernel twin;

        Kind(DType type, MatmulKernel twin) {
            this.type = type;
            this.twin = twin;
        }

        MatmulKernel vector(MemorySegment w, int rows, int cols) {
            assumeTrue(Int4LaneSums.supported(), "needs 256- or 512-bit vectors");
            MatmulKernel k = switch (this) {
                case Q4_0 -> Q4_0Int8MatmulVector.forWeight(w, rows, cols);
                case Q4_K -> Q4_KInt8MatmulVector.forWeight(w, rows, cols);
                case Q6_K -> Q6_KInt8MatmulVector.forWeight(w, rows, cols);
                case Q8_0 -> Q8_0Int8MatmulVector.forWeight(w, rows, cols);
            };
            assertThat(k).isNotNull();
            return k;
        }

        /** Row lengths: several blocks, and 96 (three Q4_0 blocks) where the block is 32. */
        int[] cols() {
            return type.blockSize() == 32 ? new int[] {32, 96, 576, 2048} : new int[] {256, 768, 2048};
        }

        Int8Activations activations() {
            return new Int8Activations(twin.int8Activations());
        }
    }

    /**
     * Repacking spreads a weight's groups over the common pool in chunks (300 rows: several chunks), or
     * stays on the calling thread for a segment confined to it: the same kernel either way, equal to the
     * twin bit for bit.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void repackedOnSeveralThreadsOrOneEqualsTheTwin(Kind kind) {
        int rows = 300;
        int cols = kind.type.blockSize() == 32 ? 64 : 256;
        MemorySegment heap = QuantTestData.matrix(kind.type, rows, cols, 77);
        Random rnd = new Random(5);
        try (Arena confined = Arena.ofConfined()) {
            MemorySegment own = confined.allocate(heap.byteSize(), 64).copyFrom(heap);
            for (MemorySegment w : new MemorySegment[] {heap, own}) {
                MatmulKernel k = kind.vector(w, rows, cols);
                for (int n : new int[] {1, 5}) {
                    assertBatchAndSplit(kind, k, w, rows, cols, n, rnd);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void vectorEqualsScalarTwinBitForBitInEveryBatchAndSplit(Kind kind) {
        int[] rowCounts = {1, 31, 33, 70};
        Random rnd = new Random(11);
        int[] cols = kind.cols();
        for (int i = 0; i < rowCounts.length; i++) {
            int rows = rowCounts[i];
            int c = cols[i % cols.length];
            MemorySegment w = QuantTestData.matrix(kind.type, rows, c, 100L * i + kind.ordinal());
            MatmulKernel k = kind.vector(w, rows, c);
            for (int n : new int[] {1, 2, 4, 5, 9, 14}) {
                assertBatchAndSplit(kind, k, w, rows, c, n, rnd);
            }
        }
    }

    private static void assertBatchAndSplit(Kind kind, MatmulKernel k, MemorySegment w, int rows, int cols, int n, Random rnd) {
        int xStride = cols + 5;
        int outStride = rows + 3;
        float[] x = QuantTestData.activations(n, xStride, 7L * n + rows);
        float[] want = new float[n * outStride];
        kind.twin.matmul(w, cols, x, xStride, n, want, outStride, 0, rows);
        float[] whole = new float[n * outStride];
        k.matmul(w, cols, x, xStride, n, whole, outStride, 0, rows);
        assertSameBits(want, whole, k + " n=" + n);
        // random splits, partial groups included, through activations quantized once
        Int8Activations a = kind.activations();
        a.quantize(x, xStride, n, cols);
        float[] split = new float[n * outStride];
        for (int r = 0; r < rows; ) {
            int end = Math.min(rows, r + 1 + rnd.nextInt(40));
            k.matmul(w, cols, a, n, split, outStride, r, end);
            r = end;
        }
        assertSameBits(want, split, k + " split n=" + n);
        // one token alone equals its row of the batch
        float[] one = new float[rows];
        float[] xt = Arrays.copyOfRange(x, (n - 1) * xStride, (n - 1) * xStride + cols);
        k.matmul(w, cols, xt, cols, 1, one, rows, 0, rows);
        for (int r = 0; r < rows; r++) {
            assertThat(Float.floatToRawIntBits(one[r])).as("%s n=%d last token row %d", k, n, r)
                    .isEqualTo(Float.floatToRawIntBits(want[(n - 1) * outStride + r]));
        }
    }

    /**
     * The twin against dequantized weights times float activations, in double: an activation moves by
     * at most |d| / 2 when rounded to {@code q * d}, so a row may differ by {@code sum |w| |d| / 2} (plus
     * float rounding). A wrong nibble, scale, minimum or column order moves it by far more.
     */
    @ParameterizedTest
    @EnumSource(Kind.class)
    void scalarTwinIsWithinTheActivationRoundingOfFloatArithmetic(Kind kind) {
        int rows = 9;
        int cols = 768;
        int block = kind.twin.int8Activations().block();
        MemorySegment w = QuantTestData.matrix(kind.type, rows, cols, 5);
        float[] x = QuantTestData.activations(1, cols, 6);
        float[] out = new float[rows];
        kind.twin.matmul(w, cols, x, cols, 1, out, rows, 0, rows);
        Int8Activations a = kind.activations();
        a.quantize(x, cols, 1, cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(kind.type, w, r * kind.type.bytesFor(cols), row, 0, cols);
            double exact = 0;
            double bound = 0;
            double mag = 0;
            for (int c = 0; c < cols; c++) {
                exact += (double) row[c] * x[c];
                bound += Math.abs(row[c]) * Math.abs(a.scales()[c / block]) / 2;
                mag += Math.abs((double) row[c] * x[c]);
            }
            bound += 1e-5 * mag;
            assertThat((double) out[r]).as("%s row %d", kind, r).isCloseTo(exact, org.assertj.core.data.Offset.offset(bound));
            // and the bound is tight enough to matter
            assertThat(bound).isLessThan(0.05 * mag);
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void anotherSegmentGivesTheSameBitsAndNonFiniteScalesPropagate(Kind kind) {
        int rows = 40;
        int cols = 512;
        MemorySegment w = QuantTestData.matrix(kind.type, rows, cols, 9);
        MatmulKernel k = kind.vector(w, rows, cols);
        MemorySegment copy = MemorySegment.ofArray(w.toArray(ValueLayout.JAVA_BYTE));
        float[] x = QuantTestData.activations(1, cols, 10);
        float[] a = new float[rows];
        float[] b = new float[rows];
        k.matmul(w, cols, x, cols, 1, a, rows, 0, rows);
        k.matmul(copy, cols, x, cols, 1, b, rows, 0, rows);
        assertSameBits(a, b, "copy");

        // +inf scale in a block of row 1, NaN in a block of row 9
        long rowBytes = kind.type.bytesFor(cols);
        int d = QuantTestData.halfOffsets(kind.type)[0];
        copy.set(HALF, rowBytes + kind.type.blockBytes() + d, (short) 0x7C00);
        copy.set(HALF, 9 * rowBytes + d, (short) 0x7E00);
        MatmulKernel k2 = kind.vector(copy, rows, cols);
        float[] got = new float[rows];
        float[] want = new float[rows];
        k2.matmul(copy, cols, x, cols, 1, got, rows, 0, rows);
        kind.twin.matmul(copy, cols, x, cols, 1, want, rows, 0, rows);
        assertSameBits(want, got, "non-finite scales");
        assertThat(got[1]).isNotFinite();
        assertThat(got[9]).isNaN();
        assertThat(got[0]).isFinite();
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    void rejectsBadArgumentsClearly(Kind kind) {
        int cols = 256;
        MemorySegment w = QuantTestData.matrix(kind.type, 32, cols, 1);
        MatmulKernel k = kind.vector(w, 32, cols);
        Int8Activations a = kind.activations();
        a.quantize(new float[2 * cols], 2 * cols, 1, 2 * cols);
        assertThatThrownBy(() -> k.matmul(w, cols, a, 1, new float[32], 32, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(2 * cols + " columns");
        a.quantize(new float[cols], cols, 1, cols);
        assertThatThrownBy(() -> k.matmul(w, cols, a, 2, new float[64], 32, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 tokens");
        assertThatThrownBy(() -> k.matmul(w, cols, a, 1, new float[31], 32, 0, 32))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("output");
        assertThatThrownBy(() -> k.matmul(w, cols, a, 1, new float[40], 40, 0, 33))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("weight has");
        Int8Activations other = new Int8Activations(kind.twin.int8Activations() == Int8Scheme.Q8_0 ? Int8Scheme.Q8_K : Int8Scheme.Q8_0);
        other.quantize(new float[cols], cols, 1, cols);
        assertThatThrownBy(() -> k.matmul(w, cols, other, 1, new float[32], 32, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("quantized by");
        assertThatThrownBy(() -> kind.vector(w, 33, cols))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs");
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s output %d: %s vs %s", what, i, got[i], want[i])
                    .isEqualTo(Float.floatToRawIntBits(want[i]));
        }
    }
}
