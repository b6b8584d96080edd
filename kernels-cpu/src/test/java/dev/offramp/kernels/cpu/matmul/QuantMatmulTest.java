package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * Differential tests of every quantized matmul kernel: vector kernels at forced 512/256/128-bit
 * species and the preferred one, each against its scalar twin and against dequantize-then-dot
 * (runtime-core reference codec, summed in double), plus exact batch and row-split invariance.
 *
 * <p>Tolerance: |ours - reference| &lt;= 1e-5 * sum|w_i x_i| + 1e-30. float rounding of a sum of
 * k terms is bounded by about k * 2^-24 * sum|w x| in the worst case; with 4+ independent accumulators
 * over rows of at most 2048 values the observed error is far below that, and 1e-5 still catches any
 * wrong weight (one wrong quant changes the sum by about 1/cols of its magnitude).
 */
class QuantMatmulTest {
    static final DType[] TYPES = {DType.Q8_0, DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1,
            DType.Q4_K, DType.Q6_K, DType.Q5_K, DType.Q3_K, DType.Q2_K};
    static final int[] BITS = {512, 256, 128, 0};
    static final int[] ROWS = {1, 7, 64};

    static int[] colsFor(DType t) {
        // 32 and 96: an odd number of blocks and a tail of chunks after the last group of four (at 16
        // lanes); 576: SmolLM's width.
        return t.blockSize() == 32 ? new int[] {32, 64, 96, 256, 576, 768, 2048} : new int[] {256, 512, 2048};
    }

    static VectorSpecies<Float> species(int bits) {
        return bits == 0 ? FloatVector.SPECIES_PREFERRED : VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
    }

    static Stream<Arguments> typesAndWidths() {
        List<Arguments> a = new ArrayList<>();
        for (DType t : TYPES) {
            for (int bits : BITS) {
                a.add(Arguments.of(t, bits));
            }
        }
        return a.stream();
    }

    static Stream<Arguments> types() {
        return Stream.of(TYPES).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0} {1}-bit")
    @MethodSource("typesAndWidths")
    void vectorDecodeIsBitExactWithReferenceDequantization(DType type, int bits) {
        QuantMatmulVector k = (QuantMatmulVector) QuantMatmulVectors.forType(type, species(bits)).orElseThrow();
        for (int cols : colsFor(type)) {
            MemorySegment w = QuantTestData.matrix(type, 3, cols, 11L * cols);
            long rowBytes = type.bytesFor(cols);
            float[] want = new float[cols];
            float[] got = new float[cols];
            for (int r = 0; r < 3; r++) {
                Dequantize.row(type, w, r * rowBytes, want, 0, cols);
                k.decodeRow(w, r * rowBytes, cols, got, 0, k.scratch(cols));
                for (int i = 0; i < cols; i++) {
                    if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                        fail(k + " cols " + cols + " row " + r + " value " + i + ": reference " + want[i] + ", decoded " + got[i]);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}-bit")
    @MethodSource("typesAndWidths")
    void vectorAndScalarAgreeWithDequantizeThenDot(DType type, int bits) {
        MatmulKernel vector = QuantMatmulVectors.forType(type, species(bits)).orElseThrow();
        MatmulKernel scalar = vector.scalar();
        assertThat(scalar).isInstanceOf(QuantMatmulScalar.class);
        int n = 5;
        for (int cols : colsFor(type)) {
            for (int rows : ROWS) {
                long seed = 1000L * cols + rows + type.ordinal();
                MemorySegment w = QuantTestData.matrix(type, rows, cols, seed);
                float[] x = QuantTestData.activations(n, cols, seed + 1);
                double[][] ref = new double[n][rows];
                double[][] mag = new double[n][rows];
                float[] row = new float[cols];
                for (int r = 0; r < rows; r++) {
                    Dequantize.row(type, w, r * type.bytesFor(cols), row, 0, cols);
                    for (int t = 0; t < n; t++) {
                        for (int c = 0; c < cols; c++) {
                            double p = (double) row[c] * x[t * cols + c];
                            ref[t][r] += p;
                            mag[t][r] += Math.abs(p);
                        }
                    }
                }
                float[] outV = new float[n * rows];
                float[] outS = new float[n * rows];
                vector.matmul(w, cols, x, cols, n, outV, rows, 0, rows);
                scalar.matmul(w, cols, x, cols, n, outS, rows, 0, rows);
                for (int t = 0; t < n; t++) {
                    for (int r = 0; r < rows; r++) {
                        double tol = 1e-5 * mag[t][r] + 1e-30;
                        String where = vector + " cols " + cols + " rows " + rows + " token " + t + " row " + r;
                        assertThat((double) outV[t * rows + r]).as("vector vs dequantize-then-dot, " + where)
                                .isCloseTo(ref[t][r], org.assertj.core.data.Offset.offset(tol));
                        assertThat((double) outS[t * rows + r]).as("scalar vs dequantize-then-dot, " + where)
                                .isCloseTo(ref[t][r], org.assertj.core.data.Offset.offset(tol));
                        assertThat((double) outV[t * rows + r]).as("vector vs scalar twin, " + where)
                                .isCloseTo(outS[t * rows + r], org.assertj.core.data.Offset.offset(2 * tol));
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}-bit")
    @MethodSource("typesAndWidths")
    void vectorKernelIsBatchAndSplitInvariant(DType type, int bits) {
        assertBatchAndSplitInvariant(QuantMatmulVectors.forType(type, species(bits)).orElseThrow());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void scalarKernelIsBatchAndSplitInvariant(DType type) {
        assertBatchAndSplitInvariant(QuantMatmulScalars.forType(type).orElseThrow());
    }

    /**
     * n = 5 (a tile of four tokens plus one) vs five n = 1 calls, and rows split in three uneven ranges
     * vs one call: identical bits. 37 rows of 2048 span two row blocks of the prefill path.
     */
    static void assertBatchAndSplitInvariant(MatmulKernel k) {
        DType type = k.type();
        int cols = 2048;
        int rows = 37;
        int n = 5;
        MemorySegment w = QuantTestData.matrix(type, rows, cols, 77);
        // Strided activations and outputs, as a batch inside larger buffers is laid out.
        int xStride = cols + 3;
        int outStride = rows + 2;
        float[] x = QuantTestData.activations(n, xStride, 78);
        float[] batch = new float[n * outStride];
        k.matmul(w, cols, x, xStride, n, batch, outStride, 0, rows);
        for (int t = 0; t < n; t++) {
            float[] single = new float[rows];
            float[] xt = new float[cols];
            System.arraycopy(x, t * xStride, xt, 0, cols);
            k.matmul(w, cols, xt, cols, 1, single, rows, 0, rows);
            float[] split = new float[rows];
            k.matmul(w, cols, xt, cols, 1, split, rows, 0, 2);
            k.matmul(w, cols, xt, cols, 1, split, rows, 2, 3);
            k.matmul(w, cols, xt, cols, 1, split, rows, 3, rows);
            for (int r = 0; r < rows; r++) {
                int b = Float.floatToRawIntBits(batch[t * outStride + r]);
                assertThat(Float.floatToRawIntBits(single[r])).as(k + " token " + t + " row " + r + ": n=1 vs n=5").isEqualTo(b);
                assertThat(Float.floatToRawIntBits(split[r])).as(k + " token " + t + " row " + r + ": row split").isEqualTo(b);
            }
        }
    }

    /** Weights in native memory at an odd address (as rows of 18- or 210-byte blocks are) give the same bits. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void nativeUnalignedWeightsGiveTheSameBits(DType type) {
        MatmulKernel k = QuantMatmulVectors.forType(type, 0).orElseThrow();
        int cols = type.blockSize() == 32 ? 96 : 512;
        int rows = 5;
        MemorySegment heap = QuantTestData.matrix(type, rows, cols, 31);
        float[] x = QuantTestData.activations(5, cols, 32);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment off = arena.allocate(heap.byteSize() + 3, 64).asSlice(3, heap.byteSize());
            off.copyFrom(heap);
            for (int n : new int[] {1, 5}) {
                float[] a = new float[n * rows];
                float[] b = new float[n * rows];
                k.matmul(heap, cols, x, cols, n, a, rows, 0, rows);
                k.matmul(off, cols, x, cols, n, b, rows, 0, rows);
                for (int i = 0; i < a.length; i++) {
                    assertThat(Float.floatToRawIntBits(b[i])).as("%s n=%d output %d", type, n, i)
                            .isEqualTo(Float.floatToRawIntBits(a[i]));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("types")
    void rejectsBadArgumentsClearly(DType type) {
        MatmulKernel k = QuantMatmulVectors.forType(type, 0).orElseThrow();
        int cols = type.blockSize();
        MemorySegment w = QuantTestData.matrix(type, 2, cols, 5);
        float[] x = new float[cols];
        float[] out = new float[4];
        assertThatThrownBy(() -> k.matmul(w, cols + 1, x, cols, 1, out, 2, 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block size");
        assertThatThrownBy(() -> k.matmul(w, cols, x, cols, 1, out, 3, 0, 3))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("weight has");
        assertThatThrownBy(() -> k.scalar().matmul(w, cols, new float[cols - 1], cols, 1, out, 2, 0, 2))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("activations");
    }

    @Test
    void everyQuantizedGgmlTypeHasBothKernels() {
        for (DType t : TYPES) {
            assertThat(QuantMatmulScalars.forType(t)).as(t.toString()).isPresent();
            assertThat(QuantMatmulVectors.forType(t, 0)).as(t.toString()).isPresent();
        }
        assertThat(QuantMatmulScalars.forType(DType.F32)).isEmpty();
    }
}
