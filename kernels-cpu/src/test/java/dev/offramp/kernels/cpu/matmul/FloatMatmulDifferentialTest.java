package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.kernels.cpu.TestTensors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * F32/F16/BF16 vector matmul kernels against their scalar twins at every width (the preferred species
 * and forced 512/256/128-bit ones), on shapes with tails ({@code cols} not a multiple of any vector
 * length), and batch invariance: a token's outputs are bit-identical for batch 1 and batch N and for
 * any split of the rows.
 *
 * <p>Tolerance: {@code |vector - scalar| <= 1e-5 * sum_c |w_c x_c| + 1e-30}. Both are float sums of
 * the same products in different orders; the error of either is bounded by
 * {@code cols * 2^-24 * sum|w x|} in the worst case and is about {@code sqrt(cols) * 2^-24 * sum|w x|}
 * in practice (at most 2e-6 relative for the widest row here), so 1e-5 fails any real bug.
 */
class FloatMatmulDifferentialTest {
    static final int[][] SHAPES = {{3, 8}, {17, 172}, {6, 576}, {4, 3}, {2, 37}};
    static final int[] BATCHES = {1, 4, 5, 9};

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (DType t : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            for (int bits : new int[]{0, 512, 256, 128, 64}) {
                out.add(Arguments.of(t, bits));
            }
        }
        return out.stream();
    }

    static VectorSpecies<Float> species(int bits) {
        return bits == 0 ? FloatVector.SPECIES_PREFERRED : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    @ParameterizedTest(name = "{0} at {1} bits")
    @MethodSource("cases")
    void vectorMatchesScalarTwinAndIsBatchInvariant(DType type, int bits) {
        // the backend's rule: the scalar kernel serves a width that has no vector kernel
        MatmulKernel vec = VectorMatmulKernels.forType(type, species(bits))
                .or(() -> MatmulKernels.scalar(type)).orElseThrow();
        MatmulKernel ref = MatmulKernels.scalar(type).orElseThrow();
        assertThat(vec.type()).isEqualTo(type);
        assertThat(vec.scalar().type()).isEqualTo(type);
        if (bits == 64 && type == DType.BF16) {
            assertThat(vec).isInstanceOf(BF16MatmulScalar.class); // no 32-bit short species
        }
        Random rnd = new Random(type.ordinal() * 1000L + bits);
        for (int[] shape : SHAPES) {
            int rows = shape[0], cols = shape[1];
            float[] wv = TestTensors.representable(type, TestTensors.random(rnd, rows * cols));
            Tensor w = TestTensors.tensor("w", type, wv, rows, cols);
            for (int n : BATCHES) {
                float[] x = TestTensors.random(rnd, n * cols);
                float[] got = new float[n * rows];
                float[] want = new float[n * rows];
                vec.matmul(w.data(), cols, x, cols, n, got, rows, 0, rows);
                ref.matmul(w.data(), cols, x, cols, n, want, rows, 0, rows);
                for (int t = 0; t < n; t++) {
                    for (int r = 0; r < rows; r++) {
                        double mag = 0;
                        for (int c = 0; c < cols; c++) {
                            mag += Math.abs((double) wv[r * cols + c] * x[t * cols + c]);
                        }
                        double diff = Math.abs((double) got[t * rows + r] - want[t * rows + r]);
                        assertThat(diff).as("%s %dx%d n=%d t=%d r=%d", type, rows, cols, n, t, r)
                                .isLessThanOrEqualTo(1e-5 * mag + 1e-30);
                    }
                }
                // batch 1 vs batch n, and an uneven row split, bit for bit
                for (int t = 0; t < n; t++) {
                    float[] one = new float[rows];
                    float[] xt = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
                    int split = rows / 3;
                    vec.matmul(w.data(), cols, xt, cols, 1, one, rows, split, rows);
                    vec.matmul(w.data(), cols, xt, cols, 1, one, rows, 0, split);
                    for (int r = 0; r < rows; r++) {
                        assertThat(Float.floatToRawIntBits(one[r]))
                                .as("%s %dx%d token %d of %d row %d", type, rows, cols, t, n, r)
                                .isEqualTo(Float.floatToRawIntBits(got[t * rows + r]));
                    }
                }
            }
        }
    }

    private static final java.lang.foreign.ValueLayout.OfShort I16 =
            java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    static Stream<Arguments> finiteWidths() {
        return Stream.of(0, 512, 256, 128).map(Arguments::of);
    }

    /**
     * The F16 decode path for weights without inf/NaN widens in registers: it must give the exact
     * kernel's bits for every finite half (random bit patterns: zeros of both signs, subnormals,
     * normals up to 65504), for one token and inside a batch, at every row split.
     */
    @ParameterizedTest(name = "F16 finite path at {0} bits")
    @MethodSource("finiteWidths")
    void f16FinitePathGivesTheExactBits(int bits) {
        MatmulKernel exact = F16MatmulWiden.of(species(bits), false);
        MatmulKernel fast = F16MatmulWiden.of(species(bits), true);
        Random rnd = new Random(7000 + bits);
        int[][] shapes = {{3, 8}, {17, 172}, {6, 576}, {4, 3}, {2, 37}, {5, 80}, {3, 2048}};
        for (int[] shape : shapes) {
            int rows = shape[0], cols = shape[1];
            // byte[]-backed: Vector API loads refuse heap segments over other array types
            java.lang.foreign.MemorySegment w = java.lang.foreign.MemorySegment.ofArray(new byte[2 * rows * cols]);
            for (int i = 0; i < rows * cols; i++) {
                short h;
                do {
                    h = (short) rnd.nextInt(1 << 16);
                } while ((h & 0x7C00) == 0x7C00);
                if (i % 7 == 0) {
                    h = (short) (h & 0x83FF); // force zeros and subnormals often
                }
                w.setAtIndex(I16, i, h);
            }
            assertThat(F16MatmulWiden.allFinite(w)).isTrue();
            int n = 5;
            float[] x = TestTensors.random(rnd, n * cols);
            float[] batch = new float[n * rows];
            fast.matmul(w, cols, x, cols, n, batch, rows, 0, rows);
            for (int t = 0; t < n; t++) {
                float[] xt = java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols);
                float[] want = new float[rows];
                float[] got = new float[rows];
                exact.matmul(w, cols, xt, cols, 1, want, rows, 0, rows);
                int split = rows / 2;
                fast.matmul(w, cols, xt, cols, 1, got, rows, split, rows);
                fast.matmul(w, cols, xt, cols, 1, got, rows, 0, split);
                for (int r = 0; r < rows; r++) {
                    assertThat(Float.floatToRawIntBits(got[r])).as("%dx%d t=%d r=%d", rows, cols, t, r)
                            .isEqualTo(Float.floatToRawIntBits(want[r]))
                            .isEqualTo(Float.floatToRawIntBits(batch[t * rows + r]));
                }
            }
        }
    }

    /** The prepare-time scan finds an infinity or NaN at any position, and nothing in finite halves. */
    @org.junit.jupiter.api.Test
    void f16ScanFindsInfAndNanAnywhere() {
        short[] specials = {(short) 0x7C00, (short) 0xFC00, (short) 0x7E00, (short) 0x7C01, (short) 0xFFFF};
        for (int len : new int[]{1, 3, 4, 9, 16}) {
            for (int pos = 0; pos < len; pos++) {
                for (short sp : specials) {
                    short[] h = new short[len];
                    java.util.Arrays.fill(h, (short) 0x7BFF); // largest finite half: must not trigger
                    h[pos] = sp;
                    assertThat(F16MatmulWiden.allFinite(java.lang.foreign.MemorySegment.ofArray(h)))
                            .as("len %d pos %d bits %04x", len, pos, sp & 0xFFFF).isFalse();
                }
            }
            short[] ok = new short[len];
            java.util.Arrays.fill(ok, (short) 0xFBFF);
            assertThat(F16MatmulWiden.allFinite(java.lang.foreign.MemorySegment.ofArray(ok))).isTrue();
        }
    }
}
