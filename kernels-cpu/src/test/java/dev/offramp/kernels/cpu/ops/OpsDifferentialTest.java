package dev.offramp.kernels.cpu.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link VectorOps} against {@link ScalarOps} at the preferred width and forced 512/256/128/64-bit
 * widths, on lengths with tails. Ops made of exact operations (add, SiLU-mul with {@link Exp}, RoPE,
 * the RMSNorm scaling step, the attention's weighted value sum) must match bit for bit; reductions
 * (sum of squares, softmax sum, q.k dots) are compared with stated tolerances.
 */
class OpsDifferentialTest {
    static final int[] LENGTHS = {1, 3, 8, 15, 16, 17, 64, 172, 576, 1000};

    static CpuOps vector(int bits) {
        VectorSpecies<Float> s = bits == 0 ? FloatVector.SPECIES_PREFERRED
                : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        return VectorOps.of(s);
    }

    static float[] gaussian(Random rnd, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return a;
    }

    static void assertBits(float[] got, float[] want, String what) {
        for (int i = 0; i < want.length; i++) {
            assertThat(Float.floatToRawIntBits(got[i])).as("%s [%d]: %s vs %s", what, i, got[i], want[i])
                    .isEqualTo(Float.floatToRawIntBits(want[i]));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 512, 256, 128, 64})
    void elementwiseOpsAreBitIdenticalToScalar(int bits) {
        CpuOps v = vector(bits);
        CpuOps s = new ScalarOps();
        Random rnd = new Random(bits + 1);
        for (int n : LENGTHS) {
            int off = 3; // misaligned offsets
            float[] x = gaussian(rnd, n + off, 4);
            float[] y = gaussian(rnd, n + off, 4);
            float[] a = x.clone(), b = x.clone();
            v.add(a, off, y, off, n);
            s.add(b, off, y, off, n);
            assertBits(a, b, "add n=" + n);
            a = x.clone();
            b = x.clone();
            v.siluMul(a, off, y, off, n);
            s.siluMul(b, off, y, off, n);
            assertBits(a, b, "siluMul n=" + n);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 512, 256, 128, 64})
    void ropeIsBitIdenticalToScalar(int bits) {
        CpuOps v = vector(bits);
        CpuOps s = new ScalarOps();
        Random rnd = new Random(bits + 2);
        int[][] shapes = {{4, 64, 64}, {3, 128, 64}, {2, 8, 8}, {5, 80, 40}, {2, 96, 32}, {1, 6, 2}};
        for (int[] sh : shapes) {
            int heads = sh[0], headDim = sh[1], ropeDim = sh[2];
            float[] cos = new float[ropeDim / 2], sin = new float[ropeDim / 2];
            for (int i = 0; i < cos.length; i++) {
                double th = rnd.nextDouble() * 100;
                cos[i] = (float) Math.cos(th);
                sin[i] = (float) Math.sin(th);
            }
            for (boolean neox : new boolean[]{true, false}) {
                float[] x = gaussian(rnd, heads * headDim + 5, 2);
                float[] a = x.clone(), b = x.clone();
                v.rope(a, 5, heads, headDim, ropeDim, neox, cos, sin);
                s.rope(b, 5, heads, headDim, ropeDim, neox, cos, sin);
                assertBits(a, b, "rope " + Arrays.toString(sh) + " neox=" + neox);
            }
        }
    }

    /** Tolerance: 2e-6 relative, a few float ulps; the sums differ in order only. */
    @ParameterizedTest
    @ValueSource(ints = {0, 512, 256, 128, 64})
    void rmsnormAndSoftmaxMatchScalarWithinRounding(int bits) {
        CpuOps v = vector(bits);
        CpuOps s = new ScalarOps();
        Random rnd = new Random(bits + 3);
        for (int n : LENGTHS) {
            float[] x = gaussian(rnd, n + 1, 3);
            float[] g = gaussian(rnd, n, 1);
            float[] a = new float[n + 2], b = new float[n + 2];
            v.rmsnorm(x, 1, g, 1e-5f, a, 2, n);
            s.rmsnorm(x, 1, g, 1e-5f, b, 2, n);
            for (int i = 0; i < n + 2; i++) {
                assertThat((double) a[i]).as("rmsnorm n=%d i=%d", n, i)
                        .isCloseTo(b[i], org.assertj.core.data.Offset.offset(2e-6 * Math.abs(b[i]) + 1e-30));
            }
            float[] sx = gaussian(rnd, n + 2, 5);
            float[] sa = sx.clone(), sb = sx.clone();
            v.softmax(sa, 2, n);
            s.softmax(sb, 2, n);
            double total = 0;
            for (int i = 2; i < n + 2; i++) {
                assertThat((double) sa[i]).as("softmax n=%d i=%d", n, i)
                        .isCloseTo(sb[i], org.assertj.core.data.Offset.offset(2e-6 * sb[i] + 1e-30));
                total += sa[i];
            }
            assertThat(total).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
            assertThat(sa[0]).isEqualTo(sx[0]);
            assertThat(sa[1]).isEqualTo(sx[1]);
        }
    }

    /**
     * Attention of one head over {@code len} positions (an F16 cache's head is widened exactly by
     * {@link CpuOps#widenHead} first, then attended as F32: checked bit for bit). Tolerance 1e-5 absolute on
     * outputs of magnitude ~1: scores differ by dot-product rounding (~1e-6 relative), which the
     * softmax and the (bit-identical) weighted sum carry through.
     */
    @ParameterizedTest
    @ValueSource(ints = {0, 512, 256, 128, 64})
    void attentionMatchesScalar(int bits) {
        CpuOps v = vector(bits);
        CpuOps s = new ScalarOps();
        Random rnd = new Random(bits + 4);
        int[] headDims = {8, 24, 64, 100, 128};
        for (int headDim : headDims) {
            for (int len : new int[]{1, 2, 7, 33}) {
                int kvHeads = 2, kvDim = kvHeads * headDim, kvOff = headDim;
                float[] q = gaussian(rnd, headDim + 1, 1);
                float[] k = gaussian(rnd, len * kvDim, 1);
                float[] val = gaussian(rnd, len * kvDim, 1);
                short[] k16 = new short[k.length], v16 = new short[val.length];
                for (int i = 0; i < k.length; i++) {
                    k16[i] = Float.floatToFloat16(k[i]);
                    v16[i] = Float.floatToFloat16(val[i]);
                }
                float scale = (float) (1 / Math.sqrt(headDim));
                float[] oa = new float[headDim + 2], ob = new float[headDim + 2];
                v.attendF32(q, 1, k, val, kvOff, kvDim, len, headDim, scale, new float[len], oa, 2);
                s.attendF32(q, 1, k, val, kvOff, kvDim, len, headDim, scale, new float[len], ob, 2);
                for (int i = 0; i < oa.length; i++) {
                    assertThat((double) oa[i]).as("F32 hd=%d len=%d i=%d", headDim, len, i)
                            .isCloseTo(ob[i], org.assertj.core.data.Offset.offset(1e-5));
                }
                // an F16 cache is read through widenHead (then attendF32): one head's halves, exactly widened
                float[] kh = new float[len * headDim], vh = new float[len * headDim];
                CpuOps.widenHead(k16, kvOff, kvDim, len, headDim, kh);
                CpuOps.widenHead(v16, kvOff, kvDim, len, headDim, vh);
                for (int p = 0; p < len; p++) {
                    for (int d = 0; d < headDim; d++) {
                        assertThat(Float.floatToRawIntBits(kh[p * headDim + d])).as("key p=%d d=%d", p, d)
                                .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat(k16[p * kvDim + kvOff + d])));
                        assertThat(Float.floatToRawIntBits(vh[p * headDim + d])).as("value p=%d d=%d", p, d)
                                .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat(v16[p * kvDim + kvOff + d])));
                    }
                }
            }
        }
    }

    /** {@link Exp#exp} stays within 3 ulp of the correctly rounded exp over the range that matters. */
    @Test
    void expIsAccurate() {
        Random rnd = new Random(5);
        for (int i = 0; i < 200_000; i++) {
            float x = (float) (rnd.nextDouble() * 175 - 87);
            float got = Exp.exp(x);
            float want = (float) Math.exp(x);
            assertThat(Math.abs(got - want)).as("exp(%s)", x).isLessThanOrEqualTo(3 * Math.ulp(want));
        }
        assertThat(Exp.exp(0f)).isEqualTo(1f);
        assertThat(Exp.exp(-1000f)).isLessThan(1.3e-38f).isGreaterThanOrEqualTo(0f);
        assertThat(Exp.exp(Float.NEGATIVE_INFINITY)).isLessThan(1.3e-38f);
        assertThat(Exp.silu(-1000f)).isCloseTo(0f, org.assertj.core.data.Offset.offset(1e-30f));
        assertThat(Exp.silu(50f)).isEqualTo(50f);
        assertThat(Float.isNaN(Exp.exp(Float.NaN))).isTrue();
    }
}
