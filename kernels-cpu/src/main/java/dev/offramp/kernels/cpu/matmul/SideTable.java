package dev.offramp.kernels.cpu.matmul;

import java.lang.foreign.MemorySegment;

/**
 * Numbers unpacked once from one weight, 64 bytes per 256-value super-block ({@link KScaleMinTable},
 * {@link Q6_KScaleTable}), and the weight segment they were built from: a kernel made for one
 * tensor reads the table only when called with that very segment.
 *
 * @param source the weight segment the table describes
 * @param table  the unpacked numbers, row after row
 */
record SideTable(MemorySegment source, MemorySegment table) {
    /** Table bytes per super-block. */
    static final int BYTES_PER_SUPER_BLOCK = 64;

    /** True when {@code w} is the very segment this table was built from. */
    boolean isFor(MemorySegment w) {
        return w == source;
    }
}
