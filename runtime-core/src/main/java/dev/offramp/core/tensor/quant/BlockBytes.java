package dev.offramp.core.tensor.quant;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Little-endian reads and writes of the scalars inside ggml blocks. ggml blocks are packed C structs
 * with 2-byte alignment at best, and model files put them at any offset, so every access is unaligned.
 */
final class BlockBytes {
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockBytes() {
    }

    /** An IEEE binary16 value stored at {@code offset}, widened exactly to float. */
    static float half(MemorySegment s, long offset) {
        return Float.float16ToFloat(s.get(HALF, offset));
    }

    /** An unsigned byte at {@code offset} (0..255). */
    static int u8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    /** A signed byte at {@code offset} (-128..127). */
    static int i8(MemorySegment s, long offset) {
        return s.get(ValueLayout.JAVA_BYTE, offset);
    }

    static int u32(MemorySegment s, long offset) {
        return s.get(INT, offset);
    }

    static void putHalf(MemorySegment s, long offset, float v) {
        s.set(HALF, offset, Float.floatToFloat16(v));
    }

    static void putByte(MemorySegment s, long offset, int v) {
        s.set(ValueLayout.JAVA_BYTE, offset, (byte) v);
    }

    static void putU32(MemorySegment s, long offset, int v) {
        s.set(INT, offset, v);
    }

    static void checkBlocks(String type, int count, int blockSize) {
        if (count < 0 || count % blockSize != 0) {
            throw new IllegalArgumentException(type + " stores blocks of " + blockSize + " values; "
                    + count + " is not a whole number of blocks");
        }
    }

    /** Bounds of a row operation, with a message that says which side is short and by how much. */
    static void checkRanges(Object type, String op, long byteOffset, long bytes, long segmentBytes,
                            int floatOffset, int count, int arrayLength) {
        if (byteOffset < 0 || byteOffset > segmentBytes - bytes) {
            throw new IndexOutOfBoundsException(op + " " + count + " " + type + " values: bytes [" + byteOffset + ", "
                    + (byteOffset + bytes) + ") are outside the " + segmentBytes + "-byte data");
        }
        if (floatOffset < 0 || floatOffset > arrayLength - count) {
            throw new IndexOutOfBoundsException(op + " " + count + " " + type + " values: floats [" + floatOffset + ", "
                    + ((long) floatOffset + count) + ") are outside the array of " + arrayLength);
        }
    }
}
