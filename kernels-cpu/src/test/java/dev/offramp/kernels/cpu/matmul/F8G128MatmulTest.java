package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Fp8E4M3;
import dev.offramp.core.tensor.quant.GroupScaledRows;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FP8 with a scale per 128 values of a row ({@link DType#F8_E4M3_G128}, what HF FP8 loaders build):
 * vector vs scalar twin vs float64 over {@link GroupScaledRows#dequantizeRow}, 128/256/512-bit, with
 * scales that differ per group (128x128 blocks) so a kernel that applied one scale per row fails.
 */
class F8G128MatmulTest {

    static F8Int4MatmulTest.Case blockScaled(Arena arena, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        int g = cols / 128;
        MemorySegment codes = arena.allocate((long) rows * cols);
        float[] scales = new float[rows * g];
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < g; k++) {
                scales[r * g + k] = (float) Math.scalb(1.0, (r / 128 + k) % 7 - 3) * (1 + k);
            }
            for (int c = 0; c < cols; c++) {
                codes.set(ValueLayout.JAVA_BYTE, (long) r * cols + c, Fp8E4M3.encode((float) rnd.nextGaussian() * 40));
            }
        }
        MemorySegment packed = arena.allocate(DType.F8_E4M3_G128.bytesFor((long) rows * cols));
        GroupScaledRows.pack(DType.F8_E4M3_G128, codes, scales, rows, cols, packed);
        float[][] dense = new float[rows][cols];
        long rb = DType.F8_E4M3_G128.bytesFor(cols);
        for (int r = 0; r < rows; r++) {
            GroupScaledRows.dequantizeRow(DType.F8_E4M3_G128, packed, r * rb, dense[r], 0, cols);
            assertThat(dense[r][cols - 1]).isEqualTo(Fp8E4M3.decode(codes.get(ValueLayout.JAVA_BYTE,
                    (long) r * cols + cols - 1)) * scales[r * g + g - 1]);
        }
        return new F8Int4MatmulTest.Case(packed, dense, rows, cols);
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void vectorMatchesScalarAndReference(int bits) {
        try (Arena arena = Arena.ofConfined()) {
            F8Int4MatmulTest.check(blockScaled(arena, 131, 384, bits), new F8_E4M3G128MatmulVector(F8Int4MatmulTest.species(bits)), bits);
        }
    }

    /**
     * Every one of the 256 codes, subnormals, zeros and the NaN codes included, in every row (one
     * rotation per row), read back one at a time with one-hot activations: the vector decode must equal
     * the scalar twin's bit for bit (NaN codes: the twin's +-480), and the codec's value for the rest.
     * Guards any change of the vector decode (subnormal codes are where bit tricks go wrong), batched
     * and one token at a time.
     */
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void everyCodeDecodesAsTheScalarTwin(int bits) {
        int rows = 3;
        int cols = 256;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment codes = arena.allocate((long) rows * cols);
            float[] scales = new float[rows * 2];
            for (int r = 0; r < rows; r++) {
                scales[2 * r] = 0.75f + r;
                scales[2 * r + 1] = 0x1p-3f * (r + 1);
                for (int c = 0; c < cols; c++) {
                    codes.set(ValueLayout.JAVA_BYTE, (long) r * cols + c, (byte) (c * 97 + r * 31));
                }
            }
            MemorySegment packed = arena.allocate(DType.F8_E4M3_G128.bytesFor((long) rows * cols));
            GroupScaledRows.pack(DType.F8_E4M3_G128, codes, scales, rows, cols, packed);
            float[] x = new float[cols * cols];
            for (int t = 0; t < cols; t++) {
                x[t * cols + t] = 1f;
            }
            MatmulKernel vector = new F8_E4M3G128MatmulVector(F8Int4MatmulTest.species(bits));
            float[] vs = new float[cols * rows];
            float[] sc = new float[cols * rows];
            vector.matmul(packed, cols, x, cols, cols, vs, rows, 0, rows);
            vector.scalar().matmul(packed, cols, x, cols, cols, sc, rows, 0, rows);
            // One token at a time too: decode has its own 512-bit path (scaled activations, 2-op decode).
            float[] one = new float[rows];
            for (int t = 0; t < cols; t++) {
                vector.matmul(packed, cols, java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), cols, 1, one, rows, 0, rows);
                for (int r = 0; r < rows; r++) {
                    assertThat(Float.floatToRawIntBits(one[r] + 0f)).as("one token, code 0x%02x row %d",
                            codes.get(ValueLayout.JAVA_BYTE, (long) r * cols + t) & 0xFF, r)
                            .isEqualTo(Float.floatToRawIntBits(sc[t * rows + r] + 0f));
                }
            }
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < cols; t++) {
                    byte code = codes.get(ValueLayout.JAVA_BYTE, (long) r * cols + t);
                    float v = vs[t * rows + r];
                    // + 0f: a -0 and a +0 sum are the same decode
                    assertThat(Float.floatToRawIntBits(v + 0f)).as("code 0x%02x row %d", code & 0xFF, r)
                            .isEqualTo(Float.floatToRawIntBits(sc[t * rows + r] + 0f));
                    if ((code & 0x7F) != 0x7F) {
                        assertThat(v).as("code 0x%02x", code & 0xFF).isEqualTo(Fp8E4M3.decode(code) * scales[2 * r + t / 128] + 0f);
                    }
                }
            }
        }
    }

    @Test
    void registeredForBothLoaderLayouts() {
        assertThat(MatmulKernels.scalar(DType.F8_E4M3_G128).orElseThrow()).isInstanceOf(F8_E4M3G128MatmulScalar.class);
        assertThat(MatmulKernels.scalar(DType.I4_G128).orElseThrow()).isInstanceOf(Int4MatmulScalar.class);
        assertThat(VectorMatmulKernels.forType(DType.F8_E4M3_G128, F8Int4MatmulTest.species(256)).orElseThrow())
                .isInstanceOf(F8_E4M3G128MatmulVector.class);
        assertThat(VectorMatmulKernels.forType(DType.I4_G128, F8Int4MatmulTest.species(256)).orElseThrow())
                .isInstanceOf(Int4MatmulVector.class);
    }
}
