package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * INT4 group-wise weights in compressed-tensors' {@code pack-quantized} format (what vLLM and
 * llm-compressor read): symmetric int4 per group of {@code group} columns (128 by default),
 * {@code scale = max|x| / 7.5} (compressed-tensors' symmetric range: (qmax - qmin) / 2 for [-8, 7]),
 * {@code q = clamp(round(x / scale), -8, 7)}; stored as
 * <ul>
 *   <li>{@code weight_packed}: I32 {@code [rows, cols / 8]}, value {@code c} of a row in bits
 *       {@code 4*(c % 8) .. +4} of int {@code c / 8} (lowest nibble first), each nibble {@code q + 8};</li>
 *   <li>{@code weight_scale}: {@code [rows, cols / group]} (F32 here; checkpoints often use F16/BF16);</li>
 *   <li>{@code weight_shape}: I64 {@code [2]} = {@code {rows, cols}}.</li>
 * </ul>
 * {@code W[r][c] = (nibble - 8) * scale[r][c / group]}.
 *
 * <pre>{@code
 * Int4PackQuantized.quantizeRow(x, 0, cols, 128, packed, r * (cols / 2L), scales, r * (cols / 128));
 * }</pre>
 */
public final class Int4PackQuantized {

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public static final int DEFAULT_GROUP = 128;

    private Int4PackQuantized() {
    }

    /** Bytes of one packed row of {@code cols} values. */
    public static long rowBytes(int cols) {
        return cols / 2;
    }

    /** Quantizes one row; {@code cols} must be a multiple of {@code group} and of 8. */
    public static void quantizeRow(float[] x, int xo, int cols, int group, MemorySegment packed, long byteOffset,
                                   float[] scales, int scaleOffset) {
        if (group <= 0 || group % 8 != 0 || cols % group != 0) {
            throw new IllegalArgumentException("INT4 pack-quantized needs columns (" + cols
                    + ") in whole groups of a multiple of 8 (group " + group + ")");
        }
        for (int g = 0; g < cols / group; g++) {
            int g0 = xo + g * group;
            float amax = 0;
            for (int i = 0; i < group; i++) {
                amax = Math.max(amax, Math.abs(x[g0 + i]));
            }
            float scale = amax / 7.5f;
            float inv = scale > 0 ? 1f / scale : 0f;
            scales[scaleOffset + g] = scale;
            for (int w = 0; w < group / 8; w++) {
                int word = 0;
                for (int k = 0; k < 8; k++) {
                    int q = Math.max(-8, Math.min(7, (int) Math.rint(x[g0 + 8 * w + k] * inv)));
                    word |= (q + 8) << (4 * k);
                }
                packed.set(I32, byteOffset + 4L * ((g * group) / 8 + w), word);
            }
        }
    }

    /** Decodes one row. */
    public static void dequantizeRow(MemorySegment packed, long byteOffset, int cols, int group, float[] scales,
                                     int scaleOffset, float[] out, int oo) {
        for (int c = 0; c < cols; c += 8) {
            int word = packed.get(I32, byteOffset + c / 2);
            float s = scales[scaleOffset + c / group];
            for (int k = 0; k < 8; k++) {
                out[oo + c + k] = (((word >>> (4 * k)) & 0xF) - 8) * s;
            }
        }
    }
}
