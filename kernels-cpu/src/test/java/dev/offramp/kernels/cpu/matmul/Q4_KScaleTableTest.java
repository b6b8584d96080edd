package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Q4_K kernel made for one weight (scales and mins unpacked once into a side table) must give the
 * plain kernel's results bit for bit, for one token and inside a batch, on any row split, and must not
 * use its table for any other segment.
 */
class Q4_KScaleTableTest {
    private static final int ROWS = 7;
    private static final int COLS = 768;

    @Test
    void oneTokenEqualsThePlainKernelBitForBit() {
        for (long seed = 1; seed <= 3; seed++) {
            MemorySegment w = QuantTestData.matrix(DType.Q4_K, ROWS, COLS, seed);
            float[] x = QuantTestData.activations(1, COLS, seed + 100);
            float[] plain = run(new Q4_KMatmulVector(FloatVector.SPECIES_512), w, x, 1);
            float[] table = run(Q4_KMatmulVector.forWeight(FloatVector.SPECIES_512, w, ROWS, COLS), w, x, 1);
            assertThat(bits(table)).as("seed %d", seed).containsExactly(bits(plain));
            float[] scalar = run(new Q4_KMatmulScalar(), w, x, 1);
            for (int r = 0; r < ROWS; r++) {
                assertThat(table[r]).isCloseTo(scalar[r], org.assertj.core.data.Offset.offset(1e-3f * (1 + Math.abs(scalar[r]))));
            }
        }
    }

    @Test
    void batchAndRowSplitDoNotChangeATokensNumbers() {
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, ROWS, COLS, 9);
        MatmulKernel k = Q4_KMatmulVector.forWeight(FloatVector.SPECIES_512, w, ROWS, COLS);
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

    @Test
    void anotherSegmentIsNotReadThroughTheTable() {
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, ROWS, COLS, 4);
        MatmulKernel k = Q4_KMatmulVector.forWeight(FloatVector.SPECIES_512, w, ROWS, COLS);
        MemorySegment other = QuantTestData.matrix(DType.Q4_K, ROWS, COLS, 5);
        float[] x = QuantTestData.activations(1, COLS, 6);
        assertThat(bits(run(k, other, x, 1))).containsExactly(bits(run(new Q4_KMatmulVector(FloatVector.SPECIES_512), other, x, 1)));
        // a mapped-like native copy of w is another segment too: same numbers, plain path
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment copy = arena.allocate(w.byteSize()).copyFrom(w);
            assertThat(bits(run(k, copy, x, 1))).containsExactly(bits(run(k, w, x, 1)));
        }
    }

    @Test
    void aSegmentTooShortForTheShapeIsRefused() {
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, ROWS, COLS, 4);
        assertThatThrownBy(() -> Q4_KMatmulVector.forWeight(FloatVector.SPECIES_512, w.asSlice(0, w.byteSize() - 1), ROWS, COLS))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Q4_K weight of 7 x 768");
    }

    @Test
    void tableHoldsTheUnpackedScalesInPairOrder() {
        MemorySegment w = QuantTestData.matrix(DType.Q4_K, 2, 256, 8);
        MemorySegment t = Q4_KScaleTable.build(w, 2, 256);
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
