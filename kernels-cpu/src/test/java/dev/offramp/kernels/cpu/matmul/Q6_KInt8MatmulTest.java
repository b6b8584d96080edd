package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import jdk.incubator.vector.ShortVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Q6_K against {@code q8_K} activations: the 32-rows-per-vector kernel against its scalar twin bit for
 * bit (any batch, any row split, partial groups), and the twin against float arithmetic within what
 * rounding the activations to int8 can move.
 */
class Q6_KInt8MatmulTest {

    static Q6_KInt8MatmulVector vector(MemorySegment w, int rows, int cols) {
        assumeTrue(ShortVector.SPECIES_PREFERRED.length() >= 32, "needs 512-bit vectors");
        Q6_KInt8MatmulVector k = Q6_KInt8MatmulVector.forWeight(w, rows, cols);
        assertThat(k).isNotNull();
        return k;
    }

    @Test
    void vectorEqualsScalarTwinBitForBitInEveryBatchAndSplit() {
        int[][] shapes = {{1, 256}, {31, 512}, {33, 256}, {70, 768}, {64, 2048}};
        Random rnd = new Random(12);
        for (int[] shape : shapes) {
            int rows = shape[0];
            int cols = shape[1];
            MemorySegment w = QuantTestData.matrix(DType.Q6_K, rows, cols, 300 + rows);
            Q6_KInt8MatmulVector k = vector(w, rows, cols);
            for (int n : new int[] {1, 2, 4, 5, 9}) {
                int xStride = cols + 5;
                int outStride = rows + 3;
                float[] x = QuantTestData.activations(n, xStride, 13L * n + rows);
                float[] want = new float[n * outStride];
                new Q6_KInt8MatmulScalar().matmul(w, cols, x, xStride, n, want, outStride, 0, rows);
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
        MemorySegment w = QuantTestData.matrix(DType.Q6_K, rows, cols, 5);
        float[] x = QuantTestData.activations(1, cols, 6);
        float[] out = new float[rows];
        new Q6_KInt8MatmulScalar().matmul(w, cols, x, cols, 1, out, rows, 0, rows);
        Int8Activations a = new Int8Activations(Int8Scheme.Q8_K);
        a.quantize(x, cols, 1, cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequantize.row(DType.Q6_K, w, r * DType.Q6_K.bytesFor(cols), row, 0, cols);
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

    private static void assertSameBits(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s output %d: %s vs %s", what, i, got[i], want[i])
                    .isEqualTo(Float.floatToRawIntBits(want[i]));
        }
    }
}
