package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Q4_K against {@code q8_K} activations: ggml's q8_K rule, the 32-rows-per-vector kernel against its
 * scalar twin bit for bit (any batch, any row split, partial groups), and the twin against float
 * arithmetic within what rounding the activations to int8 can move.
 */
class Q4_KInt8MatmulTest {

    static Q4_KInt8MatmulVector vector(MemorySegment w, int rows, int cols) {
        assumeTrue(ShortVector.SPECIES_PREFERRED.length() >= 32, "needs 512-bit vectors");
        Q4_KInt8MatmulVector k = Q4_KInt8MatmulVector.forWeight(w, rows, cols);
        assertThat(k).isNotNull();
        return k;
    }

    @Test
    void quantizesLikeGgmlQ8_K() {
        float[] x = new float[512];
        // block 0: the first value of largest magnitude is -127, so iscale = 1: ties round to even
        x[0] = 3f;
        x[1] = -127f;
        x[2] = 127f;
        x[3] = 2.5f;
        x[4] = 3.5f;
        x[5] = -2.5f;
        x[40] = 1f;
        // block 1 all zero
        Int8Activations a = new Int8Activations(Int8Scheme.Q8_K);
        a.quantize(x, 512, 1, 512);
        short[] q = a.quants();
        assertThat(new int[] {q[0], q[1], q[2], q[3], q[4], q[5]}).containsExactly(3, -127, 127, 2, 4, -2);
        assertThat(a.scales()[0]).isEqualTo(1f);
        assertThat(a.sums()[0]).isEqualTo(3 - 127 + 127 + 2 + 4 - 2);
        assertThat(a.sums()[1]).isEqualTo(1);
        assertThat(a.scales()[1]).isZero();
        // a positive extreme first: iscale < 0, so the quants flip sign and d is negative
        x[1] = 100f;
        a.quantize(x, 512, 1, 512);
        assertThat(a.quants()[2]).isEqualTo((short) -127);
        assertThat(a.scales()[0]).isEqualTo(-1f);
        x[300] = Float.NaN;
        a.quantize(x, 512, 1, 512);
        assertThat(a.scales()[1]).isNaN();
        assertThatThrownBy(() -> a.quantize(new float[96], 96, 1, 96))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("multiple of 256");
    }

    @Test
    void vectorQuantizerGivesTheScalarBits() {
        assumeTrue(ShortVector.SPECIES_PREFERRED.length() >= 32, "needs 512-bit vectors");
        int cols = 256 * 4;
        int n = 3;
        int xStride = cols + 3;
        float[] x = QuantTestData.activations(n, xStride, 31);
        Arrays.fill(x, 256, 512, 0f); // zero block
        x[600] = Float.NaN;
        x[xStride + 10] = -40f; // extremes of both signs, the negative first
        x[xStride + 11] = 40f;
        for (int i = 0; i < 256; i++) {
            x[2 * xStride + 768 + i] = (i - 128) * 0.5f; // many ties at iscale 127/64
        }
        Int8Activations want = new Int8Activations(Int8Scheme.Q8_K);
        want.quantize(x, xStride, n, cols);
        Int8Activations got = new Int8Activations(Int8Scheme.Q8_K);
        Int8ActivationsVector.quantize(got, x, xStride, n, cols);
        for (int i = 0; i < n * cols; i++) {
            assertThat(got.quants()[i]).as("quant %d", i).isEqualTo(want.quants()[i]);
        }
        for (int b = 0; b < n * cols / 256; b++) {
            assertThat(Float.floatToRawIntBits(got.scales()[b])).as("scale %d", b).isEqualTo(Float.floatToRawIntBits(want.scales()[b]));
        }
        for (int b = 0; b < n * cols / 32; b++) {
            assertThat(got.sums()[b]).as("sum %d", b).isEqualTo(want.sums()[b]);
        }
    }

    @Test
    void vectorEqualsScalarTwinBitForBitInEveryBatchAndSplit() {
        int[][] shapes = {{1, 256}, {31, 512}, {33, 256}, {70, 768}, {64, 2048}};
        Random rnd = new Random(12);
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            MemorySegment w = QuantTestData.matrix(DType.Q4_K, rows, cols, 200 + rows);
            Q4_KInt8MatmulVector k = vector(w, rows, cols);
            for (int n : new int[] {1, 2, 4, 5, 9}) {
                int xStride = cols + 5;
                int outStride = rows + 3;
                float[] x = QuantTestData.activations(n, xStride, 9L * n + rows);
                float[] want = new float[n * outStride];
                new Q4_KInt8MatmulScalar().matmul(w, cols, x, xStride, n, want, outStride, 0, rows);
                float[] whole = new float[n * outStride];
                k.matmul(w, cols, x, xStride, n, whole, outStride, 0, rows);
                assertSameBits(want, whole, k + " n=" + n);
                Int8Activations a = new Int8Activations(Int8Scheme.Q8_K);
                a.quantize(x, xStride, n, cols);
                float[] split = new float[n * outStride];
                for (int r = 0; r < rows; ) {
                    int end = Math.min(rows, r + 1 + rnd.nextInt(40));
                    k.matmul(w, cols, a, n, split, outStride, r, end);
                    r = end;
                }
                assertSameBits(want, split, k + " split n=" + n);
                float[] one = new float[rows];
                float[] xt = Arrays.copyOfRange(x, (n - 1) * xStride, (n - 1) * xStride + cols);
                k.matmul(w, cols, xt, cols, 1, one, rows, 0, rows);
                for (int r = 0; r < rows; r++) {
                    assertThat(Float.floatToRawIntBits(one[r])).as("%s n=%d last token row %d", k, n, r)
                            .isEqualTo(Float.floatToRawIntBits(want[(n - 1) * outStride + r]));
                }
            }
        }
    }

    /**
     * The twin against dequantized weights times float activations, in double: each activation moves by
     * at most |d| / 2 when rounded, so a row may differ by {@code |d|/2 * sum |w|} per super-block (plus
     * float rounding). A wrong nibble, scale, minimum or column order moves it by far more.
     */
    @Test
    void scalarTwinIsWithinTheActivationRoundingOfFloatArithmetic() {
        int rows = 9;
        int cols = 768;
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, rows, cols, 5);
        float[] x = QuantTestData.activations(1, cols, 6);
        float[] out = new float[rows];
        new Q4_KInt8MatmulScalar().matmul(w, cols, x, cols, 1, out, rows, 0, rows);
        Int8Activations a = new Int8Activations(Int8Scheme.Q8_K);
        a.quantize(x, cols, 1, cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(DType.Q4_K, w, r * DType.Q4_K.bytesFor(cols), row, 0, cols);
            double exact = 0;
            double bound = 0;
            double mag = 0;
            for (int c = 0; c < cols; c++) {
                exact += (double) row[c] * x[c];
                bound += Math.abs(row[c]) * Math.abs(a.scales()[c / 256]) / 2;
                mag += Math.abs((double) row[c] * x[c]);
            }
            bound += 1e-5 * mag;
            assertThat((double) out[r]).as("row " + r).isCloseTo(exact, org.assertj.core.data.Offset.offset(bound));
            assertThat(bound).isLessThan(0.05 * mag);
        }
    }

    @Test
    void anotherSegmentFallsBackWithTheSameBits() {
        int rows = 40;
        int cols = 512;
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, rows, cols, 9);
        Q4_KInt8MatmulVector k = vector(w, rows, cols);
        MemorySegment copy = MemorySegment.ofArray(w.toArray(ValueLayout.JAVA_BYTE));
        float[] x = QuantTestData.activations(1, cols, 10);
        float[] a = new float[rows];
        float[] b = new float[rows];
        k.matmul(w, cols, x, cols, 1, a, rows, 0, rows);
        k.matmul(copy, cols, x, cols, 1, b, rows, 0, rows);
        assertSameBits(a, b, "copy");
        Int8Activations q8_0 = new Int8Activations();
        q8_0.quantize(x, cols, 1, cols);
        assertThatThrownBy(() -> k.matmul(w, cols, q8_0, 1, a, rows, 0, rows))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("Q8_0").hasMessageContaining("Q8_K");
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s output %d: %s vs %s", what, i, got[i], want[i])
                    .isEqualTo(Float.floatToRawIntBits(want[i]));
        }
    }
}
