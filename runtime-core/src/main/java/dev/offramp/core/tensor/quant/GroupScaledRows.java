package dev.offramp.core.tensor.quant;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The two row layouts with an F32 scale per 128 values that keep the scales in front of the row's
 * codes ({@link DType#I4_G128}, {@link DType#F8_E4M3_G128}): {@code [cols/128 f32 scales][codes]}.
 * Unlike the ggml block types a span of such a row cannot be decoded without its row start, so
 * {@link #dequantizeRow} decodes whole rows only (every caller of {@link Dequantize#row} in this
 * project passes whole rows).
 *
 * <pre>{@code
 * float[] row = new float[cols];
 * GroupScaledRows.dequantizeRow(DType.I4_G128, t.data(), r * t.rowBytes(), row, 0, cols);
 * }</pre>
 */
public final class GroupScaledRows {
    /** Values per scale. */
    public static final int GROUP = 128;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GroupScaledRows() {
    }

    /** Decodes the row of {@code cols} values that starts at {@code byteOffset}. */
    public static void dequantizeRow(DType type, MemorySegment src, long byteOffset, float[] dst, int dstOffset, int cols) {
        int g = cols / GROUP;
        long codes = byteOffset + 4L * g;
        switch (type) {
            case I4_G128 -> {
                for (int c = 0; c < cols; c += 2) {
                    float s = src.get(F32, byteOffset + 4L * (c / GROUP));
                    int b = src.get(ValueLayout.JAVA_BYTE, codes + c / 2) & 0xFF;
                    dst[dstOffset + c] = ((b & 0xF) - 8) * s;
                    dst[dstOffset + c + 1] = ((b >>> 4) - 8) * s;
                }
            }
            case F8_E4M3_G128 -> {
                for (int c = 0; c < cols; c++) {
                    float s = src.get(F32, byteOffset + 4L * (c / GROUP));
                    dst[dstOffset + c] = Fp8E4M3.decode(src.get(ValueLayout.JAVA_BYTE, codes + c)) * s;
                }
            }
            default -> throw new IllegalArgumentException(type + " is not a group-scaled row layout");
        }
    }
}
