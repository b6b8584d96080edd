package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Q4_K, Q5_K and Q6_K kernels made for one weight (scales unpacked once into a side table) must give the
 * plain kernels' results bit for bit, for one token and inside a batch, on any row split, and must not
 * use their table for any other segment.
 */
class KQuantScaleTableTest {
    private static final int ROWS = 7;
    private static final int COLS = 768;

    /** A kernel for weight w of the given type with its table, or (w == null) the plain kernel. */
    private static MatmulKernel kernel(DType type, MemorySegment w) {
        return switch (type) {
            case Q4_K -> w == null ? new Q4_KMatmulVector(FloatVector.SPECIES_512)
                    : Q4_KMatmulVector.forWeight(FloatVector.SPECIES_512, w, ROWS, COLS);
            case Q5_K -> w == null ? new Q5_KMatmulVector(FloatVector.SPECIES_512)
                    : Q5_KMatmulVector.forWeight(FloatVector.SPECIES_512, w, ROWS, COLS);
            case Q6_K -> w == null ? new Q6_KMatmulVector(FloatVector.SPECIES_512)
                    : Q6_KMatmulVector.forWeight(FloatVector.SPECIES_512, w, ROWS, COLS);
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void oneTokenEqualsThePlainKernelBitForBit(DType type) {
        for (long seed = 1; seed <= 3; seed++) {
            MemorySegment w = QuantTestData.matrix(type, ROWS, COLS, seed);
            float[] x = QuantTestData.activations(1, COLS, seed + 100);
            MatmulKernel plainKernel = kernel(type, null);
            float[] plain = run(plainKernel, w, x, 1);
            float[] table = run(kernel(type, w), w, x, 1);
            assertThat(bits(table)).as("%s seed %d", type, seed).containsExactly(bits(plain));
            float[] scalar = run(plainKernel.scalar(), w, x, 1);
            for (int r = 0; r < ROWS; r++) {
                assertThat(table[r]).isCloseTo(scalar[r], org.assertj.core.data.Offset.offset(1e-3f * (1 + Math.abs(scalar[r]))));
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void batchAndRowSplitDoNotChangeATokensNumbers(DType type) {
        MemorySegment w = QuantTestData.matrix(type, ROWS, COLS, 9);
        MatmulKernel k = kernel(type, w);
        int n = 5;
        float[] xs = QuantTestData.activations(n, COLS, 10);
        float[] batch = run(k, w, xs, n);
        for (int t = 0; t < n; t++) {
            float[] x = java.util.Arrays.copyOfRange(xs, t * COLS, (t + 1) * COLS);
            float[] one = new float[ROWS];
            // rows split as two threads would take them
            k.matmul(w, COLS, x, COLS, 1, one, ROWS, 0, 3);
            k.matmul(w, COLS, x, COLS, 1, one, ROWS, 3, ROWS);
            assertThat(bits(one)).as("token %d", t)
                    .containsExactly(bits(java.util.Arrays.copyOfRange(batch, t * ROWS, (t + 1) * ROWS)));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void anotherSegmentIsNotReadThroughTheTable(DType type) {
        MemorySegment w = QuantTestData.matrix(type, ROWS, COLS, 4);
        MatmulKernel k = kernel(type, w);
        MemorySegment other = QuantTestData.matrix(type, ROWS, COLS, 5);
        float[] x = QuantTestData.activations(1, COLS, 6);
        assertThat(bits(run(k, other, x, 1))).containsExactly(bits(run(kernel(type, null), other, x, 1)));
        // a mapped-like native copy of w is another segment too: same numbers, plain path
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(w.byteSize()).copyFrom(w);
            assertThat(bits(run(k, copy, x, 1))).containsExactly(bits(run(k, w, x, 1)));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q4_K", "Q5_K", "Q6_K"})
    void aSegmentTooShortForTheShapeIsRefused(DType type) {
        MemorySegment w = QuantTestData.matrix(type, ROWS, COLS, 4);
        assertThatThrownBy(() -> kernel(type, w.asSlice(0, w.byteSize() - 1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(type + " weight of 7 x 768");
    }

    @Test
    void q6kTableHoldsTheFactorsInGroupOrder() {
        MemorySegment w = QuantTestData.matrix(DType.Q6_K, 2, 256, 8);
        MemorySegment t = Q6_KScaleTable.build(w, 2, 256).table();
        for (int row = 0; row < 2; row++) {
            long blk = 210L * row;
            float d = QuantMatmulScalar.half(w, blk + 208);
            for (int g = 0; g < 4; g++) {
                for (int k = 0; k < 4; k++) {
                    int sub = 8 * (g >>> 1) + (g & 1) + 2 * k;
                    assertThat(t.get(ValueLayout.JAVA_FLOAT, 64L * row + 16L * g + 4L * k))
                            .isEqualTo(d * QuantMatmulScalar.i8(w, blk + 192 + sub));
                }
            }
        }
    }

    @Test
    void q4kTableHoldsTheUnpackedScalesInPairOrder() {
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, 2, 256, 8);
        MemorySegment t = KScaleMinTable.build(w, 2, 256, DType.Q4_K).table();
        float[] sc = new float[8];
        float[] mn = new float[8];
        for (int row = 0; row < 2; row++) {
            long blk = 144L * row;
            QuantKScales.unpack(w, blk + 4, QuantMatmulScalar.half(w, blk), QuantMatmulScalar.half(w, blk + 2), sc, mn, 0);
            for (int pair = 0; pair < 4; pair++) {
                long at = 64L * row + 16L * pair;
                assertThat(t.get(ValueLayout.JAVA_FLOAT, at)).isEqualTo(sc[2 * pair]);
                assertThat(t.get(ValueLayout.JAVA_FLOAT, at + 4)).isEqualTo(mn[2 * pair]);
                assertThat(t.get(ValueLayout.JAVA_FLOAT, at + 8)).isEqualTo(sc[2 * pair + 1]);
                assertThat(t.get(ValueLayout.JAVA_FLOAT, at + 12)).isEqualTo(mn[2 * pair + 1]);
            }
        }
    }

    private static float[] run(MatmulKernel k, MemorySegment w, float[] x, int n) {
        float[] out = new float[n * ROWS];
        k.matmul(w, COLS, x, COLS, n, out, ROWS, 0, ROWS);
        return out;
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = Float.floatToRawIntBits(v[i]);
        }
        return b;
    }
}
