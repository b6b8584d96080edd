package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.quant.Fp8E4M3;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link MinifloatWiden} against the references, code by code: all 256 E4M3 codes against the scalar
 * twin's {@code widen} (and the codec, NaN codes aside) and all 65,536 halves against
 * {@link Float#float16ToFloat}, bit for bit (so -0 stays -0), at every int lane width. Infinities and
 * NaNs (exponent 31) are outside {@code f16}'s contract and are checked to be the only misses.
 */
class MinifloatWidenTest {

    static VectorSpecies<Integer> ints(int bits) {
        return switch (bits) {
            case 128 -> IntVector.SPECIES_128;
            case 256 -> IntVector.SPECIES_256;
            default -> IntVector.SPECIES_512;
        };
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void everyE4m3CodeIsExact(int bits) {
        VectorSpecies<Integer> is = ints(bits);
        int[] codes = new int[256];
        for (int c = 0; c < 256; c++) {
            codes[c] = (byte) c; // sign-extended, as B2I leaves a byte
        }
        float[] got = new float[256];
        for (int i = 0; i < 256; i += is.length()) {
            MinifloatWiden.e4m3(IntVector.fromArray(is, codes, i)).intoArray(got, i);
        }
        for (int c = 0; c < 256; c++) {
            float want = F8_E4M3MatmulScalar.widen(c);
            assertThat(Float.floatToRawIntBits(got[c])).as("code 0x%02x: %s vs %s", c, got[c], want)
                    .isEqualTo(Float.floatToRawIntBits(want));
            if ((c & 0x7F) != 0x7F) {
                assertThat(got[c]).as("code 0x%02x", c).isEqualTo(Fp8E4M3.decode((byte) c));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void everyFiniteHalfIsExact(int bits) {
        VectorSpecies<Integer> is = ints(bits);
        int[] halves = new int[65536];
        for (int h = 0; h < 65536; h++) {
            halves[h] = (short) h; // sign-extended, as S2I leaves a short
        }
        float[] got = new float[65536];
        for (int i = 0; i < 65536; i += is.length()) {
            MinifloatWiden.f16(IntVector.fromArray(is, halves, i)).intoArray(got, i);
        }
        int misses = 0;
        for (int h = 0; h < 65536; h++) {
            float want = Float.float16ToFloat((short) h);
            boolean finite = (h & 0x7C00) != 0x7C00;
            if (finite) {
                assertThat(Float.floatToRawIntBits(got[h])).as("half 0x%04x: %s vs %s", h, got[h], want)
                        .isEqualTo(Float.floatToRawIntBits(want));
            } else if (Float.floatToRawIntBits(got[h]) != Float.floatToRawIntBits(want)) {
                misses++;
            }
        }
        assertThat(misses).as("inf/NaN halves are outside the contract").isEqualTo(2 * 1024);
    }

    /** Every code through the per-row-scale vector kernel too (one-hot tokens), against its scalar twin. */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void perRowKernelDecodesEveryCodeAsTheScalarTwin(int bits) {
        int rows = 2;
        int cols = 256 + 19; // a 16-lane tail chunk and a scalar tail after the 32-byte pairs
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment q = arena.allocate((long) rows * cols);
            MemorySegment s = arena.allocate(4L * rows);
            for (int r = 0; r < rows; r++) {
                s.set(F8_E4M3MatmulScalar.F32, 4L * r, 0.375f + r);
                for (int c = 0; c < cols; c++) {
                    q.set(ValueLayout.JAVA_BYTE, (long) r * cols + c, (byte) (c * 101 + r * 7));
                }
            }
            MemorySegment packed = F8_E4M3MatmulScalar.pack(q, s, rows, cols, arena);
            float[] x = new float[cols * cols];
            for (int t = 0; t < cols; t++) {
                x[t * cols + t] = 1f;
            }
            MatmulKernel vector = new F8_E4M3MatmulVector(F8Int4MatmulTest.species(bits));
            float[] vs = new float[cols * rows];
            float[] sc = new float[cols * rows];
            vector.matmul(packed, cols, x, cols, cols, vs, rows, 0, rows);
            vector.scalar().matmul(packed, cols, x, cols, cols, sc, rows, 0, rows);
            boolean[] seen = new boolean[256];
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < cols; t++) {
                    int code = q.get(ValueLayout.JAVA_BYTE, (long) r * cols + t) & 0xFF;
                    seen[code] = true;
                    assertThat(Float.floatToRawIntBits(vs[t * rows + r] + 0f)).as("code 0x%02x row %d col %d", code, r, t)
                            .isEqualTo(Float.floatToRawIntBits(sc[t * rows + r] + 0f));
                }
            }
            for (int c = 0; c < 256; c++) {
                assertThat(seen[c]).as("code 0x%02x covered", c).isTrue();
            }
        }
    }

    @Test
    void signOfZeroAndSubnormalsSurvive() {
        int[] codes = new int[16];
        codes[0] = (byte) 0x80; // -0
        codes[1] = (byte) 0x81; // -2^-9
        codes[2] = 0x01;        // +2^-9
        codes[3] = 0x07;        // 7 * 2^-9
        codes[4] = 0x08;        // 2^-6, smallest normal
        float[] got = new float[16];
        MinifloatWiden.e4m3(IntVector.fromArray(IntVector.SPECIES_512, codes, 0)).intoArray(got, 0);
        assertThat(Float.floatToRawIntBits(got[0])).isEqualTo(Float.floatToRawIntBits(-0f));
        assertThat(got[1]).isEqualTo(-0x1p-9f);
        assertThat(got[2]).isEqualTo(0x1p-9f);
        assertThat(got[3]).isEqualTo(7 * 0x1p-9f);
        assertThat(got[4]).isEqualTo(0x1p-6f);
    }
}
