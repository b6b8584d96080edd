package dev.offramp.kernels.cpu.matmul;

import java.lang.foreign.MemorySegment;

/**
 * Numbers unpacked once from one weight, 64 bytes per 256-value super-block ({@link KScaleMinTable},
 * {@link Q6_KScaleTable}), and the weight segment they were built from: a kernel made for one
 * tensor reads the table only when called with that very segment.
 *
 * @param source     the weight segment the table describes
 * @param table      the unpacked numbers, row after row
 * @param blockBytes bytes of one super-block in {@code source} (144 Q4_K, 176 Q5_K, 210 Q6_K)
 */
record SideTable(MemorySegment source, MemorySegment table, int blockBytes) {
    /** Table bytes per super-block. */
    static final int BYTES_PER_SUPER_BLOCK = 64;

    /**
     * The table offset of the row whose weights start at byte {@code base} of {@code w} (rows of
     * {@code cols} values), or -1 when {@code w} is not {@link #source}.
     */
    long rowStart(MemorySegment w, long base, int cols) {
        if (w != source) {
            return -1;
        }
        long blocks = cols >>> 8;
        return base / (blockBytes * blocks) * blocks * BYTES_PER_SUPER_BLOCK;
    }
}
