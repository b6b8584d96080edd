package dev.offramp.bench.kernels;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

/**
 * One random weight matrix replicated across a working set larger than the last-level cache, handed
 * out copy after copy, so every benchmarked matmul streams its weights from DRAM as a decode step does.
 * Fill {@link #first()} (random bytes, then fix up the scales a type needs), call {@link #replicate()},
 * then take {@link #next()} per call.
 */
final class WeightPool implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment pool;
    private final long matrixBytes;
    private final int copies;
    private int next;

    WeightPool(long matrixBytes, int workingSetMiB, Random rnd) {
        this.matrixBytes = matrixBytes;
        this.copies = (int) Math.max(1, (workingSetMiB * 1024L * 1024L + matrixBytes - 1) / matrixBytes);
        this.pool = arena.allocate(matrixBytes * copies, 64);
        MemorySegment first = first();
        for (long i = 0; i + 8 <= matrixBytes; i += 8) {
            first.set(ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
        }
    }

    long matrixBytes() {
        return matrixBytes;
    }

    /** The master copy, filled with random bytes; adjust it before {@link #replicate()}. */
    MemorySegment first() {
        return pool.asSlice(0, matrixBytes);
    }

    /** Copies the master over every other copy. */
    void replicate() {
        for (int c = 1; c < copies; c++) {
            MemorySegment.copy(pool, 0, pool, c * matrixBytes, matrixBytes);
        }
    }

    /** The next copy in turn. */
    MemorySegment next() {
        int c = next;
        next = c + 1 == copies ? 0 : c + 1;
        return pool.asSlice(c * matrixBytes, matrixBytes);
    }

    @Override
    public void close() {
        arena.close();
    }
}
