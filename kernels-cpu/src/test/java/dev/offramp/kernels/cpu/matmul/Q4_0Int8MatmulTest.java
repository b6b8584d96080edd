package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Q4_0 against int8 activations: the quantization rule, the 32-rows-per-vector kernel against its
 * scalar twin bit for bit (any batch, any row split, partial groups), and the twin against float
 * arithmetic within the error that rounding the activations to int8 can cause.
 */
class Q4_0Int8MatmulTest {
    private static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static Q4_0Int8MatmulVector vector(MemorySegment w, int rows, int cols) {
        assumeTrue(ShortVector.SPECIES_PREFERRED.length() >= 32, "needs 512-bit vectors");
        Q4_0Int8MatmulVector k = Q4_0Int8MatmulVector.forWeight(w, rows, cols);
        assertThat(k).isNotNull();
        return k;
    }

    @Test
    void quantizesLikeGgmlQ8_0() {
        float[] x = new float[64];
        // block 0: amax 127 makes d = 1, so x / d is exact: ties round away from zero
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -2.5f;
        x[3] = 0.49999997f;
        x[4] = -126.5f;
        // block 1: all zero: d = 0 and quants 0
        Int8Activations a = new Int8Activations();
        a.quantize(x, 64, 1, 64);
        assertThat(a.quants()[0]).isEqualTo((short) 127);
        assertThat(a.quants()[1]).isEqualTo((short) 3);
        assertThat(a.quants()[2]).isEqualTo((short) -3);
        assertThat(a.quants()[3]).isEqualTo((short) 0);
        assertThat(a.quants()[4]).isEqualTo((short) -127);
        assertThat(a.scales()[0]).isEqualTo(1f);
        assertThat(a.sums()[0]).isEqualTo(127 + 3 - 3 - 127);
        assertThat(a.scales()[1]).isZero();
        assertThat(a.sums()[1]).isZero();

        float[] y = QuantTestData.activations(3, 96, 4);
        a.quantize(y, 96, 3, 96);
        for (int b = 0; b < 9; b++) {
            float amax = 0;
            for (int i = 0; i < 32; i++) {
                amax = Math.max(amax, Math.abs(y[32 * b + i]));
            }
            float d = amax / 127f;
            assertThat(a.scales()[b]).isEqualTo(d);
            int sum = 0;
            for (int i = 0; i < 32; i++) {
                int q = a.quants()[32 * b + i];
                sum += q;
                assertThat(Math.abs(q)).isLessThanOrEqualTo(127);
                // the nearest integer to x / d (ties aside, which random data does not hit)
                assertThat((double) Math.abs(y[32 * b + i] / d - q)).isLessThanOrEqualTo(0.5 + 1e-5);
            }
            assertThat(a.sums()[b]).isEqualTo(sum);
        }
        x[40] = Float.NaN;
        a.quantize(x, 64, 1, 64);
        assertThat(a.scales()[1]).isNaN();
    }

    @Test
    void vectorQuantizerGivesTheScalarBits() {
        assumeTrue(ShortVector.SPECIES_PREFERRED.length() >= 32, "needs 512-bit vectors");
        int cols = 32 * 12;
        int n = 3;
        int xStride = cols + 7;
        float[] x = QuantTestData.activations(n, xStride, 21);
        // block 0: d = 1 and every half-integer in [-20, 20]: ties
        x[0] = 127f;
        for (int i = 1; i < 32; i++) {
            x[i] = -15.5f + i;
        }
        java.util.Arrays.fill(x, 32, 64, 0f); // block 1: zero
        x[70] = Float.NaN; // block 2
        x[100] = Float.POSITIVE_INFINITY; // block 3
        x[xStride + 33] = 1e-30f; // tiny block of token 1
        for (int i = 0; i < 32; i++) {
            x[2 * xStride + 64 + i] = (i % 2 == 0 ? 1 : -1) * 1e30f; // huge
        }
        Int8Activations want = new Int8Activations();
        want.quantize(x, xStride, n, cols);
        Int8Activations got = new Int8Activations();
        Int8ActivationsVector.quantize(got, x, xStride, n, cols);
        for (int i = 0; i < n * cols; i++) {
            assertThat(got.quants()[i]).as("quant %d", i).isEqualTo(want.quants()[i]);
        }
        for (int b = 0; b < n * cols / 32; b++) {
            assertThat(Float.floatToRawIntBits(got.scales()[b])).as("scale %d", b).isEqualTo(Float.floatToRawIntBits(want.scales()[b]));
            assertThat(got.sums()[b]).as("sum %d", b).isEqualTo(want.sums()[b]);
        }
        assertThat(want.quants()[1 + 15]).isEqualTo((short) 1); // 0.5 rounds away from zero
        assertThat(want.quants()[15]).isEqualTo((short) -1); // -0.5 too
    }

    @Test
    void vectorEqualsScalarTwinBitForBitInEveryBatchAndSplit() {
        int[][] shapes = {{1, 32}, {31, 64}, {32, 96}, {33, 576}, {70, 256}, {96, 2048}};
        Random rnd = new Random(11);
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            MemorySegment w = QuantTestData.matrix(DType.Q4_0, rows, cols, 100 + rows);
            Q4_0Int8MatmulVector k = vector(w, rows, cols);
            for (int n : new int[] {1, 2, 4, 5, 9}) {
                int xStride = cols + 5;
                int outStride = rows + 3;
                float[] x = QuantTestData.activations(n, xStride, 7L * n + rows);
                float[] want = new float[n * outStride];
                new Q4_0Int8MatmulScalar().matmul(w, cols, x, xStride, n, want, outStride, 0, rows);
                float[] whole = new float[n * outStride];
                k.matmul(w, cols, x, xStride, n, whole, outStride, 0, rows);
                assertSameBits(want, whole, k + " n=" + n);
                // random splits, partial groups included, through pre-quantized activations
                Int8Activations a = new Int8Activations();
                a.quantize(x, xStride, n, cols);
                float[] split = new float[n * outStride];
                for (int r = 0; r < rows; ) {
                    int end = Math.min(rows, r + 1 + rnd.nextInt(40));
                    k.matmul(w, cols, a, n, split, outStride, r, end);
                    r = end;
                }
                assertSameBits(want, split, k + " split n=" + n);
                // one token alone equals its row in the batch
                float[] one = new float[rows];
                float[] xt = java.util.Arrays.copyOfRange(x, (n - 1) * xStride, (n - 1) * xStride + cols);
                k.matmul(w, cols, xt, cols, 1, one, rows, 0, rows);
                for (int r = 0; r < rows; r++) {
                    assertThat(Float.floatToRawIntBits(one[r])).as("%s n=%d last token row %d", k, n, r)
                            .isEqualTo(Float.floatToRawIntBits(want[(n - 1) * outStride + r]));
                }
            }
        }
    }

    /**
     * The twin against dequantized weights times float activations, in double: rounding x to
     * {@code q * d} moves it by at most d / 2, so each block may differ by {@code d/2 * sum |w|}.
     * A wrong nibble, scale or column order moves the sum by far more.
     */
    @Test
    void scalarTwinIsWithinTheActivationRoundingOfFloatArithmetic() {
        int rows = 9;
        int cols = 576;
        MemorySegment w = QuantTestData.matrix(DType.Q4_0, rows, cols, 5);
        float[] x = QuantTestData.activations(1, cols, 6);
        float[] out = new float[rows];
        new Q4_0Int8MatmulScalar().matmul(w, cols, x, cols, 1, out, rows, 0, rows);
        Int8Activations a = new Int8Activations();
        a.quantize(x, cols, 1, cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(DType.Q4_0, w, r * DType.Q4_0.bytesFor(cols), row, 0, cols);
            double exact = 0;
            double bound = 1e-6;
            for (int c = 0; c < cols; c++) {
                exact += (double) row[c] * x[c];
                bound += Math.abs(row[c]) * a.scales()[c / 32] / 2;
            }
            assertThat((double) out[r]).as("row " + r).isCloseTo(exact, org.assertj.core.data.Offset.offset(bound * 1.001));
            // and the bound is tight enough to matter: well under the row's own magnitude
            assertThat(bound).isLessThan(0.05 * sumAbs(row, x));
        }
    }

    private static double sumAbs(float[] w, float[] x) {
        double s = 0;
        for (int i = 0; i < w.length; i++) {
            s += Math.abs((double) w[i] * x[i]);
        }
        return s;
    }

    @Test
    void anotherSegmentFallsBackWithTheSameBitsAndNonFiniteScalesPropagate() {
        int rows = 40;
        int cols = 128;
        MemorySegment w = QuantTestData.matrix(DType.Q4_0, rows, cols, 9);
        Q4_0Int8MatmulVector k = vector(w, rows, cols);
        MemorySegment copy = MemorySegment.ofArray(w.toArray(ValueLayout.JAVA_BYTE));
        float[] x = QuantTestData.activations(1, cols, 10);
        float[] a = new float[rows];
        float[] b = new float[rows];
        k.matmul(w, cols, x, cols, 1, a, rows, 0, rows);
        k.matmul(copy, cols, x, cols, 1, b, rows, 0, rows);
        assertSameBits(a, b, "copy");

        copy.set(HALF, 18L * 5, (short) 0x7C00); // +inf scale in row 1
        copy.set(HALF, 18L * 36, (short) 0x7E00); // NaN in row 9
        Q4_0Int8MatmulVector k2 = vector(copy, rows, cols);
        float[] c = new float[rows];
        float[] want = new float[rows];
        k2.matmul(copy, cols, x, cols, 1, c, rows, 0, rows);
        new Q4_0Int8MatmulScalar().matmul(copy, cols, x, cols, 1, want, rows, 0, rows);
        assertSameBits(want, c, "non-finite scales");
        assertThat(c[1]).isNotFinite();
        assertThat(c[9]).isNaN();
        assertThat(c[0]).isFinite();
    }

    @Test
    void rejectsBadArgumentsClearly() {
        int cols = 64;
        MemorySegment w = QuantTestData.matrix(DType.Q4_0, 32, cols, 1);
        Q4_0Int8MatmulVector k = vector(w, 32, cols);
        Int8Activations a = new Int8Activations();
        a.quantize(new float[96], 96, 1, 96);
        assertThatThrownBy(() -> k.matmul(w, cols, a, 1, new float[32], 32, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("96 columns");
        a.quantize(new float[cols], cols, 1, cols);
        assertThatThrownBy(() -> k.matmul(w, cols, a, 2, new float[64], 32, 0, 32))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 tokens");
        assertThatThrownBy(() -> k.matmul(w, cols, a, 1, new float[31], 32, 0, 32))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("output");
        assertThatThrownBy(() -> k.matmul(w, cols, a, 1, new float[40], 40, 0, 33))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("weight has");
        assertThatThrownBy(() -> a.quantize(new float[40], 40, 1, 40))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> Q4_0Int8MatmulVector.forWeight(w, 33, cols))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("needs");
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s output %d: %s vs %s", what, i, got[i], want[i])
                    .isEqualTo(Float.floatToRawIntBits(want[i]));
        }
    }
}
