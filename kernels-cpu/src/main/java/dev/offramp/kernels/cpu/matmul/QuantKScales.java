package dev.offramp.kernels.cpu.matmul;

import java.lang.foreign.MemorySegment;

/**
 * Q4_K/Q5_K's 12 bytes of 6-bit scales and mins unpacked branch-free on 32-bit words (a per-scale
 * loop with branches gets fully unrolled by C2 and, inlined next to the vector code, exhausts its
 * inlining budget). Layout: bytes 0-3 hold scales 0-3 (low 6 bits), bytes 4-7 mins 0-3; the top 2
 * bits of those 8 bytes are the high bits of scales/mins 4-7, whose low 4 bits are the low and high
 * nibbles of bytes 8-11.
 */
final class QuantKScales {
    private QuantKScales() {
    }

    /** The eight 6-bit scales of the 12 packed bytes at {@code packed}: byte j of the result is scale j. */
    static long scales(MemorySegment w, long packed) {
        int a = w.get(QuantMatmulScalar.U32, packed);
        int c = w.get(QuantMatmulScalar.U32, packed + 8);
        return (a & 0x3F3F3F3FL) | ((long) ((c & 0x0F0F0F0F) | (((a >>> 6) & 0x03030303) << 4)) << 32);
    }

    /** The eight 6-bit mins of the 12 packed bytes at {@code packed}: byte j of the result is min j. */
    static long mins(MemorySegment w, long packed) {
        int b = w.get(QuantMatmulScalar.U32, packed + 4);
        int c = w.get(QuantMatmulScalar.U32, packed + 8);
        return (b & 0x3F3F3F3FL) | ((long) (((c >>> 4) & 0x0F0F0F0F) | (((b >>> 6) & 0x03030303) << 4)) << 32);
    }

    /** Writes {@code d * scale_j} to {@code scale[at + j]} and {@code dmin * min_j} to {@code min[at + j]}, j = 0..7. */
    static void unpack(MemorySegment w, long packed, float d, float dmin, float[] scale, float[] min, int at) {
        long sc = scales(w, packed);
        long mn = mins(w, packed);
        for (int j = 0; j < 8; j++) {
            scale[at + j] = d * (int) ((sc >>> (8 * j)) & 0xFF);
            min[at + j] = dmin * (int) ((mn >>> (8 * j)) & 0xFF);
        }
    }
}
