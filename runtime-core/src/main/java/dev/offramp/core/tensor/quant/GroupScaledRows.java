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

    /**
     * Builds {@code type}'s rows into {@code dst} ({@code type.bytesFor(rows * cols)} bytes) from the
     * codes as HF files store them ({@code rows * cols} FP8 bytes, or {@code rows * cols / 2} INT4
     * nibble bytes) and one scale per group ({@code groupScales[r * cols/128 + g]}).
     */
    public static void pack(DType type, MemorySegment codes, float[] groupScales, int rows, int cols, MemorySegment dst) {
        if (type != DType.I4_G128 && type != DType.F8_E4M3_G128) {
            throw new IllegalArgumentException(type + " is not a group-scaled row layout");
        }
        if (cols % GROUP != 0) {
            throw new IllegalArgumentException(type + " rows must be whole groups of " + GROUP + ", got " + cols);
        }
        int g = cols / GROUP;
        long codeBytes = type == DType.I4_G128 ? cols / 2 : cols;
        long rb = type.bytesFor(cols);
        if (codes.byteSize() != rows * codeBytes || groupScales.length != (long) rows * g
                || dst.byteSize() != rows * rb) {
            throw new IllegalArgumentException(type + ": codes, scales or destination do not match " + rows + " x " + cols);
        }
        for (int r = 0; r < rows; r++) {
            for (int k = 0; k < g; k++) {
                dst.set(F32, r * rb + 4L * k, groupScales[r * g + k]);
            }
            MemorySegment.copy(codes, r * codeBytes, dst, r * rb + 4L * g, codeBytes);
        }
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
