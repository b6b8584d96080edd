package dev.offramp.kernels.cpu.matmul;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A Q6_K matrix's sub-block factors {@code d * scale} (f16 super-block factor times int8 scale of 16
 * values), computed once when the weight is prepared, in the order the one-token kernel meets them:
 * per 64-value group (half h, offset l0) the four scales {@code 8h + l0/16 + 0, 2, 4, 6}.
 *
 * <p>Why: per 64 weights the register path re-read and converted the f16 factor and converted and
 * multiplied four int8 scales, scalar work next to ~30 vector operations; see {@link KScaleMinTable}
 * for the same trade (64 bytes per 256 weights here, beside Q6_K's 210).
 */
final class Q6_KScaleTable {
    private Q6_KScaleTable() {
    }

    /** The table of {@code rows} rows of {@code cols} (a multiple of 256) Q6_K weights in {@code w}. */
    static SideTable build(MemorySegment w, long rows, int cols) {
        long blocks = cols / 256;
        if (rows * blocks * 210 > w.byteSize()) {
            throw new IllegalArgumentException("Q6_K weight of " + rows + " x " + cols + " needs "
                    + rows * blocks * 210 + " bytes, the segment has " + w.byteSize());
        }
        MemorySegment t = Arena.ofAuto().allocate(Math.max(rows * blocks * SideTable.BYTES_PER_SUPER_BLOCK, 1), 64);
        long o = 0;
        for (long blk = 0, end = rows * blocks * 210; blk < end; blk += 210) {
            float d = QuantMatmulScalar.half(w, blk + 208);
            for (int g = 0; g < 4; g++) {
                long sc = blk + 192 + 8L * (g >>> 1) + (g & 1);
                for (int k = 0; k < 4; k++) {
                    t.set(ValueLayout.JAVA_FLOAT, o + 16L * g + 4L * k, d * QuantMatmulScalar.i8(w, sc + 2L * k));
                }
            }
            o += SideTable.BYTES_PER_SUPER_BLOCK;
        }
        return new SideTable(w, t);
    }
}
