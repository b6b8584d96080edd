package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every one of the 65,536 halves through the F16 vector kernels, read back one at a time with one-hot
 * tokens (n = 1, the fused decode path), against {@link Float#float16ToFloat} and the scalar twin:
 * zeros of both signs, all subnormals, all normals. Infinities and NaNs go through the general kernel
 * (the finite one is only built for weights {@link F16MatmulWiden#allFinite} accepts, and must refuse
 * none of the others).
 */
class F16MatmulEveryHalfTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int COLS = 48; // a 32-half pair, an odd 16-half block

    static VectorSpecies<Float> species(int bits) {
        return F8Int4MatmulTest.species(bits);
    }

    /** Halves {@code h} with {@code finite(h) == finite}, laid out {@code COLS} to a row (padded with +0). */
    private static MemorySegment matrix(boolean finite, int[] rowsOut) {
        int count = 0;
        for (int h = 0; h < 65536; h++) {
            if (((h & 0x7C00) != 0x7C00) == finite) {
                count++;
            }
        }
        int rows = (count + COLS - 1) / COLS;
        MemorySegment w = MemorySegment.ofArray(new byte[2 * rows * COLS]);
        int i = 0;
        for (int h = 0; h < 65536; h++) {
            if (((h & 0x7C00) != 0x7C00) == finite) {
                w.setAtIndex(I16, i++, (short) h);
            }
        }
        rowsOut[0] = rows;
        return w;
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void everyFiniteHalfThroughTheFusedPath(int bits) {
        check(true, F16MatmulWiden.of(species(bits), true));
    }

    /** One infinity or NaN per row (at a varying column, +0 elsewhere), all-ones tokens: the row is that half. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void infinitiesAndNaNsThroughTheGeneralPath(int bits) {
        MatmulKernel k = F16MatmulWiden.of(species(bits), false);
        int rows = 2048;
        MemorySegment w = MemorySegment.ofArray(new byte[2 * rows * COLS]);
        for (int row = 0; row < rows; row++) {
            int h = 0x7C00 | (row & 0x3FF) | (row & 0x400) << 5; // both signs, every mantissa
            w.setAtIndex(I16, (long) row * COLS + row % COLS, (short) h);
        }
        assertThat(F16MatmulWiden.allFinite(w)).isFalse();
        float[] x = new float[COLS];
        java.util.Arrays.fill(x, 1f);
        float[] got = new float[rows];
        float[] twin = new float[rows];
        k.matmul(w, COLS, x, COLS, 1, got, rows, 0, rows);
        k.scalar().matmul(w, COLS, x, COLS, 1, twin, rows, 0, rows);
        for (int row = 0; row < rows; row++) {
            float want = Float.float16ToFloat(w.getAtIndex(I16, (long) row * COLS + row % COLS));
            String what = "row " + row + " want " + want;
            if (Float.isNaN(want)) {
                assertThat(got[row]).as(what).isNaN();
                assertThat(twin[row]).as(what).isNaN();
            } else {
                assertThat(got[row]).as(what).isEqualTo(want);
                assertThat(twin[row]).as(what).isEqualTo(want);
            }
        }
    }

    private static void check(boolean finite, MatmulKernel k) {
        int[] r = new int[1];
        MemorySegment w = matrix(finite, r);
        int rows = r[0];
        assertThat(F16MatmulWiden.allFinite(w)).isEqualTo(finite);
        float[] got = new float[rows];
        float[] twin = new float[rows];
        for (int c = 0; c < COLS; c++) {
            float[] x = new float[COLS];
            x[c] = 1f;
            k.matmul(w, COLS, x, COLS, 1, got, rows, 0, rows);
            k.scalar().matmul(w, COLS, x, COLS, 1, twin, rows, 0, rows);
            for (int row = 0; row < rows; row++) {
                short h = w.getAtIndex(I16, (long) row * COLS + c);
                int want = Float.floatToRawIntBits(Float.float16ToFloat(h) + 0f); // sums start at +0: -0 reads back as +0
                if (Float.floatToRawIntBits(got[row]) != want || Float.floatToRawIntBits(twin[row]) != want) {
                    assertThat(new float[]{got[row], twin[row]})
                            .as("half 0x%04x (row %d col %d)", h & 0xFFFF, row, c)
                            .containsExactly(Float.intBitsToFloat(want), Float.intBitsToFloat(want));
                }
            }
        }
    }
}
