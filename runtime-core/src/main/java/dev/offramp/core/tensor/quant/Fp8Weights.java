package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * FP8 E4M3 weights with their F32 scales, the two layouts HF FP8 checkpoints use:
 * <ul>
 *   <li>per-row {@code weight_scale} {@code [rows, 1]} (compressed-tensors "channel" strategy; what
 *       our quantizer writes): {@code W[r][c] = fp8(q[r][c]) * scale[r]};</li>
 *   <li>128x128 blocks {@code weight_scale_inv} {@code [ceil(rows/128), ceil(cols/128)]} (DeepSeek-V3,
 *       Qwen3-FP8 and the like): {@code W[r][c] = fp8(q[r][c]) * s[r/128][c/128]} (despite the name,
 *       the stored value multiplies).</li>
 * </ul>
 *
 * <pre>{@code
 * float[] scales = new float[rows];
 * Fp8Weights.quantizeRow(x, 0, cols, q, r * (long) cols, scales, r);
 * }</pre>
 */
public final class Fp8Weights {

    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Block edge of the {@code weight_scale_inv} layout. */
    public static final int BLOCK = 128;

    private Fp8Weights() {
    }

    /**
     * Quantizes one row: scale = max|x| / 448 (1 for an all-zero row), codes = E4M3(x / scale).
     * Writes {@code cols} bytes at {@code byteOffset} and the scale into {@code scales[row]}.
     */
    public static void quantizeRow(float[] x, int xo, int cols, MemorySegment dst, long byteOffset, float[] scales,
                                   int row) {
        float amax = 0;
        for (int c = 0; c < cols; c++) {
            amax = Math.max(amax, Math.abs(x[xo + c]));
        }
        float scale = amax > 0 ? amax / Fp8E4M3.MAX : 1f;
        float inv = 1f / scale;
        for (int c = 0; c < cols; c++) {
            dst.set(ValueLayout.JAVA_BYTE, byteOffset + c, Fp8E4M3.encode(x[xo + c] * inv));
        }
        scales[row] = scale;
    }

    /** Row {@code r} of a per-row-scaled weight ({@code scales} F32 {@code [rows]} or {@code [rows, 1]}). */
    public static void dequantizeRowPerRow(MemorySegment q, MemorySegment scales, int r, int cols, float[] out, int oo) {
        float s = scales.get(F32, 4L * r);
        long base = (long) r * cols;
        for (int c = 0; c < cols; c++) {
            out[oo + c] = Fp8E4M3.decode(q.get(ValueLayout.JAVA_BYTE, base + c)) * s;
        }
    }

    /** Row {@code r} of a block-scaled weight ({@code scaleInv} F32 {@code [ceil(rows/128), ceil(cols/128)]}). */
    public static void dequantizeRowBlocked(MemorySegment q, MemorySegment scaleInv, int r, int cols, float[] out,
                                            int oo) {
        int blockCols = (cols + BLOCK - 1) / BLOCK;
        long base = (long) r * cols;
        long srow = (long) (r / BLOCK) * blockCols;
        for (int c = 0; c < cols; c++) {
            float s = scaleInv.get(F32, 4L * (srow + c / BLOCK));
            out[oo + c] = Fp8E4M3.decode(q.get(ValueLayout.JAVA_BYTE, base + c)) * s;
        }
    }

    /** Expected shape of a {@code weight_scale_inv} for a {@code rows x cols} weight. */
    public static long[] blockScaleShape(long rows, long cols) {
        return new long[] {(rows + BLOCK - 1) / BLOCK, (cols + BLOCK - 1) / BLOCK};
    }
}
