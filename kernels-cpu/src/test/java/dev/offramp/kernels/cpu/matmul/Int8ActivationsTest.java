package dev.offramp.kernels.cpu.matmul;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** ggml's q8_0 and q8_K rules ({@link Int8Activations}) and their vectorized twin, bit for bit. */
class Int8ActivationsTest {
    @Test
    void quantizesLikeGgmlQ8_0() {
        float[] x = new float[64];
        // block 0: amax 127 makes the multiplier 1, so x * 127 / amax is exact: ties round to even
        // (ggml's x86 quantize_row_q8_0 rounds with _MM_ROUND_NEAREST, not roundf)
        x[0] = 127f;
        x[1] = 2.5f;
        x[2] = -3.5f;
        x[3] = 0.49999997f;
        x[4] = -126.5f;
        // block 1: all zero: d = 0 and quants 0
        Int8Activations a = new Int8Activations();
        a.quantize(x, 64, 1, 64);
        assertThat(a.quants()[0]).isEqualTo((short) 127);
        assertThat(a.quants()[1]).isEqualTo((short) 2);
        assertThat(a.quants()[2]).isEqualTo((short) -4);
        assertThat(a.quants()[3]).isEqualTo((short) 0);
        assertThat(a.quants()[4]).isEqualTo((short) -126);
        assertThat(a.scales()[0]).isEqualTo(1f);
        assertThat(a.sums()[0]).isEqualTo(127 + 2 - 4 - 126);
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
            // the scale as ggml stores it: an f16
            assertThat(a.scales()[b]).isEqualTo(Float.float16ToFloat(Float.floatToFloat16(d)))
                    .isCloseTo(d, org.assertj.core.data.Percentage.withPercentage(0.05));
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
        // past f16's range (ggml's scale would be infinite) and below its normal range: the float scale
        java.util.Arrays.fill(x, 32, 64, 0f);
        x[33] = -2e7f;
        a.quantize(x, 64, 1, 64);
        assertThat(a.scales()[1]).isEqualTo(2e7f / 127f);
        assertThat(a.quants()[33]).isEqualTo((short) -127);
        x[33] = 1e-4f;
        a.quantize(x, 64, 1, 64);
        assertThat(a.scales()[1]).isEqualTo(1e-4f / 127f).isPositive();
        x[40] = Float.NaN;
        a.quantize(x, 64, 1, 64);
        assertThat(a.scales()[1]).isNaN();
    }

    @Test
    void vectorQ8_0QuantizerGivesTheScalarBits() {
        assumeTrue(Int4LaneSums.supported(), "needs 256- or 512-bit vectors");
        int cols = 32 * 12;
        int n = 5; // four tokens or more: the quants are kept as floats too
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
        Arrays.fill(x, xStride + 64, xStride + 96, 0f);
        x[xStride + 64] = 1e-39f; // so tiny that 1 / d overflows: a zero block
        for (int i = 0; i < 32; i++) {
            x[2 * xStride + 64 + i] = (i % 2 == 0 ? 1 : -1) * 1e30f; // huge
        }
        Int8Activations want = new Int8Activations();
        want.quantize(x, xStride, n, cols);
        Int8Activations got = new Int8Activations();
        Int8ActivationsVector.quantize(got, x, xStride, n, cols);
        assertThat(want.hasFloatQuants()).isTrue();
        assertThat(got.hasFloatQuants()).isTrue();
        for (int i = 0; i < n * cols; i++) {
            assertThat(got.quants()[i]).as("quant %d", i).isEqualTo(want.quants()[i]);
            assertThat(want.floatQuants()[i]).as("float quant %d", i).isEqualTo(want.quants()[i]);
            assertThat(got.floatQuants()[i]).as("float quant %d", i).isEqualTo(got.quants()[i]);
        }
        for (int b = 0; b < n * cols / 32; b++) {
            assertThat(Float.floatToRawIntBits(got.scales()[b])).as("scale %d", b).isEqualTo(Float.floatToRawIntBits(want.scales()[b]));
            assertThat(got.sums()[b]).as("sum %d", b).isEqualTo(want.sums()[b]);
        }
        assertThat(want.quants()[1 + 15]).isEqualTo((short) 0); // 0.5 rounds to even
        assertThat(want.quants()[1 + 16]).isEqualTo((short) 2); // 1.5 too
        assertThat(want.sums()[cols / 32 + 2]).isZero(); // the 1e-39 block of token 1
        assertThat(want.quants()[cols + 64]).isZero();
        assertThat(want.quants()[15]).isEqualTo((short) 0); // -0.5 too
        assertThat(want.quants()[14]).isEqualTo((short) -2); // -1.5
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
    void vectorQ8_KQuantizerGivesTheScalarBits() {
        assumeTrue(Int4LaneSums.supported(), "needs 256- or 512-bit vectors");
        int cols = 256 * 4;
        int n = 3;
        int xStride = cols + 3;
        float[] x = QuantTestData.activations(n, xStride, 31);
        Arrays.fill(x, 256, 512, 0f); // zero block
        x[600] = Float.NaN;
        Arrays.fill(x, 2 * xStride, 2 * xStride + 256, 0f);
        x[2 * xStride + 5] = -1e-37f; // so tiny that -127 / max overflows: a zero block
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
        assertThat(want.scales()[2 * cols / 256]).isZero(); // the -1e-37 block of token 2
        assertThat(want.sums()[2 * cols / 32]).isZero();
    }
}
