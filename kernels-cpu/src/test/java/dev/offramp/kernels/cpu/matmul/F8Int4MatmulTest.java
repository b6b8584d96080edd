package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.quant.Fp8Weights;
import dev.offramp.core.tensor.quant.Int4PackQuantized;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FP8 E4M3 (per-row scale) and INT4 group-128 kernels: vector vs scalar twin vs a float64 reference
 * over the runtime-core codecs' dequantization, at 128/256/512-bit species; batch and row-split invariance.
 */
class F8Int4MatmulTest {

    static VectorSpecies<Float> species(int bits) {
        return switch (bits) {
            case 128 -> FloatVector.SPECIES_128;
            case 256 -> FloatVector.SPECIES_256;
            default -> FloatVector.SPECIES_512;
        };
    }

    record Case(MemorySegment packed, float[][] dense, int rows, int cols) {
    }

    static Case fp8(Arena arena, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian() * (i % 13 == 0 ? 4 : 1) * (1 + (i / cols) % 3);
        }
        MemorySegment q = arena.allocate((long) rows * cols);
        float[] scales = new float[rows];
        for (int r = 0; r < rows; r++) {
            Fp8Weights.quantizeRow(w, r * cols, cols, q, (long) r * cols, scales, r);
        }
        MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_FLOAT, scales);
        float[][] dense = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            Fp8Weights.dequantizeRowPerRow(q, s, r, cols, dense[r], 0);
        }
        return new Case(F8_E4M3MatmulScalar.pack(q, s, rows, cols, arena), dense, rows, cols);
    }

    static Case int4(Arena arena, int rows, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) rnd.nextGaussian() * (1 + (i / 128) % 5);
        }
        MemorySegment p = arena.allocate((long) rows * cols / 2);
        float[] scales = new float[rows * cols / 128];
        for (int r = 0; r < rows; r++) {
            Int4PackQuantized.quantizeRow(w, r * cols, cols, 128, p, (long) r * cols / 2, scales, r * cols / 128);
        }
        float[][] dense = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            Int4PackQuantized.dequantizeRow(p, (long) r * cols / 2, cols, 128, scales, r * cols / 128, dense[r], 0);
        }
        return new Case(Int4MatmulScalar.pack(p, scales, rows, cols, arena), dense, rows, cols);
    }

    static void check(Case c, MatmulKernel vector, long seed) {
        int n = 5;
        Random rnd = new Random(seed);
        int stride = c.cols() + 3;
        float[] x = new float[n * stride];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] vs = new float[n * c.rows()];
        float[] sc = new float[n * c.rows()];
        vector.matmul(c.packed(), c.cols(), x, stride, n, vs, c.rows(), 0, c.rows());
        vector.scalar().matmul(c.packed(), c.cols(), x, stride, n, sc, c.rows(), 0, c.rows());
        for (int t = 0; t < n; t++) {
            for (int r = 0; r < c.rows(); r++) {
                double ref = 0;
                double mag = 0;
                for (int k = 0; k < c.cols(); k++) {
                    ref += (double) c.dense()[r][k] * x[t * stride + k];
                    mag += Math.abs((double) c.dense()[r][k] * x[t * stride + k]);
                }
                double tol = 1e-5 * mag + 1e-6;
                assertThat((double) sc[t * c.rows() + r]).as("scalar t%d r%d", t, r).isCloseTo(ref, org.assertj.core.data.Offset.offset(tol));
                assertThat((double) vs[t * c.rows() + r]).as("vector t%d r%d", t, r).isCloseTo(ref, org.assertj.core.data.Offset.offset(tol));
            }
        }
        // batch and split invariance: token 3 alone, rows in two parts, same bits
        float[] one = new float[c.rows()];
        float[] x3 = java.util.Arrays.copyOfRange(x, 3 * stride, 4 * stride);
        int mid = c.rows() / 3;
        vector.matmul(c.packed(), c.cols(), x3, stride, 1, one, c.rows(), 0, mid);
        vector.matmul(c.packed(), c.cols(), x3, stride, 1, one, c.rows(), mid, c.rows());
        for (int r = 0; r < c.rows(); r++) {
            assertThat(Float.floatToRawIntBits(one[r])).as("row %d", r)
                    .isEqualTo(Float.floatToRawIntBits(vs[3 * c.rows() + r]));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void fp8VectorMatchesScalarAndReference(int bits) {
        try (Arena arena = Arena.ofConfined()) {
            check(fp8(arena, 37, 264, bits), new F8_E4M3MatmulVector(species(bits)), bits);
            check(fp8(arena, 9, 1000, bits + 1), new F8_E4M3MatmulVector(species(bits)), bits + 1); // tail columns
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void int4VectorMatchesScalarAndReference(int bits) {
        try (Arena arena = Arena.ofConfined()) {
            check(int4(arena, 29, 512, bits), new Int4MatmulVector(species(bits)), bits);
        }
    }

    @org.junit.jupiter.api.Test
    void fp8IsRegisteredAndRefusesAnUnpackedWeight() {
        MatmulKernel k = MatmulKernels.scalar(dev.offramp.core.tensor.DType.F8_E4M3).orElseThrow();
        assertThat(k).isInstanceOf(F8_E4M3MatmulScalar.class);
        MemorySegment raw = MemorySegment.ofArray(new byte[4 * 64]); // 4 rows x 64 codes, no scales
        org.assertj.core.api.Assertions.assertThatThrownBy(() ->
                        k.matmul(raw, 64, new float[64], 64, 1, new float[4], 4, 0, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pack");
    }
}
