package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Q4_K or Q5_K matrix's per-sub-block scales and mins (both types pack them the same way: f16 d and
 * dmin, then 12 bytes of 6-bit values), unpacked once when the weight is prepared: for every row and
 * every 64 values (two 32-value sub-blocks), four floats {@code d*sc1, dmin*m1, d*sc2, dmin*m2},
 * rounded exactly as {@link QuantKScales#unpack} rounds them.
 *
 * <p>Why: unpacking the 6-bit scales, converting the two f16 super-block factors and multiplying
 * them out costs a one-token matmul about as much as the dot product itself (~70 scalar
 * instructions per 256 weights beside ~100 vector ones); a stand-alone probe (256x2048, in cache,
 * one thread) ran the register-unpacking loop at ~11.8 G weights/s and the same loop reading this
 * table at ~21. The price is memory and bandwidth: 64 bytes per 256 weights beside Q4_K's 144
 * (the quants stay where they are, in the mapped file).
 */
final class KScaleMinTable {
    private KScaleMinTable() {
    }

    /**
     * The table of {@code rows} rows of {@code cols} (a multiple of 256) weights of {@code type} (Q4_K:
     * super-blocks of 144 bytes, Q5_K: 176) in {@code w}; each super-block starts with d, dmin and the scales.
     */
    static SideTable build(MemorySegment w, long rows, int cols, DType type) {
        int blockBytes = type.blockBytes();
        long blocks = cols / 256;
        long bytes = rows * blocks * SideTable.BYTES_PER_SUPER_BLOCK;
        if (rows * blocks * blockBytes > w.byteSize()) {
            throw new IllegalArgumentException(type + " weight of " + rows + " x " + cols + " needs "
                    + rows * blocks * blockBytes + " bytes, the segment has " + w.byteSize());
        }
        // Arena.ofAuto: the table lives as long as the kernel that reads it, like the weight itself.
        MemorySegment t = Arena.ofAuto().allocate(Math.max(bytes, 1), 64);
        long o = 0;
        for (long blk = 0, end = rows * blocks * blockBytes; blk < end; blk += blockBytes) {
            float d = QuantMatmulScalar.half(w, blk);
            float dmin = QuantMatmulScalar.half(w, blk + 2);
            long sc = QuantKScales.scales(w, blk + 4);
            long mn = QuantKScales.mins(w, blk + 4);
            for (int j = 0; j < 8; j++) {
                // pair j/2 holds (scale, min) of its first sub-block, then of its second
                long at = o + 16L * (j >>> 1) + 8L * (j & 1);
                t.set(ValueLayout.JAVA_FLOAT, at, d * (int) ((sc >>> (8 * j)) & 0xFF));
                t.set(ValueLayout.JAVA_FLOAT, at + 4, dmin * (int) ((mn >>> (8 * j)) & 0xFF));
            }
            o += SideTable.BYTES_PER_SUPER_BLOCK;
        }
        return new SideTable(w, t);
    }
}
