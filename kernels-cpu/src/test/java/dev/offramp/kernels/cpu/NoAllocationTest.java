package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.backend.RopeTable;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.model.RopeStyle;
import dev.offramp.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The hot path allocates nothing per op once warm: dispatch to the worker pool, the op tasks and
 * scratch are reused. Measured on the calling thread with the scalar kernels (the Vector API itself
 * allocates until C2 has compiled a loop, which is JIT timing, not our dispatch).
 */
class NoAllocationTest {

    @Test
    void warmDecodeStepsAllocateNothingOnTheCaller() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported());
        Random rnd = new Random(3);
        int dim = 256, heads = 4, headDim = 64;
        try (CpuBackend b = new CpuBackend(2, VectorWidth.SCALAR, 0)) {
            Weight w = b.prepare(TestTensors.tensor("w", DType.F32, TestTensors.random(rnd, dim * dim), dim, dim));
            Weight g = b.prepare(TestTensors.tensor("g", DType.F32, TestTensors.random(rnd, dim), dim));
            KvCache kv = b.allocateKvCache(1, 64, dim, DType.F16);
            Activations x = b.allocate(1, dim), y = b.allocate(1, dim), att = b.allocate(1, dim);
            RopeTable rope = new RopeTable(RopeStyle.NEOX, headDim, new float[headDim / 2]);
            int[] pos = new int[1];
            int[] tok = {0};
            Weight[] pair = {w, w};
            Activations[] pairOut = {x, att};
            Runnable step = () -> {
                b.rmsnorm(x, g, 1e-5f, 1, y);
                b.matmul(pair, y, 1, pairOut);
                b.matmul(w, y, 1, x);
                b.rope(x, 1, heads, headDim, pos, rope);
                b.kvWrite(kv, 0, x, x, 1, pos);
                b.attention(x, kv, 0, 1, pos, heads, heads, headDim, att);
                b.siluMul(att, y, 1);
                b.add(x, att, 1);
                b.embed(w, tok, 1, y);
            };
            for (int i = 0; i < 2000; i++) {
                pos[0] = i % 64;
                step.run();
            }
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1000; i++) {
                pos[0] = i % 64;
                step.run();
            }
            long allocated = mx.getCurrentThreadAllocatedBytes() - before;
            // 1000 steps of 9 ops: a single allocation per op would be >= 128 KB
            assertThat(allocated).as("bytes allocated by 1000 warm decode steps").isLessThan(16 * 1024);
        }
    }

    /**
     * The int8-activation kernels (Q4_0, Q4_K, Q6_K, Q8_0), on the machine's vectors, through the backend
     * (activations quantized per call on the caller): once C2 has compiled them, decode-shaped and
     * 4- and 8-token matmuls allocate nothing. A vector that C2 fails to keep in registers (its per-method
     * inlining budget) is boxed on every block, and a message string built on every call was caught
     * here too; a window that never gets quiet fails.
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = DType.class, names = {"Q4_0", "Q4_K", "Q6_K", "Q8_0"})
    void warmInt8MatmulsAllocateNothing(DType type) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(mx.isThreadAllocatedMemorySupported());
        int bits = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED.vectorBitSize();
        assumeTrue(bits == 256 || bits == 512, "needs 256- or 512-bit vectors");
        int rows = 96, cols = 256;
        try (CpuBackend b = new CpuBackend(1, VectorWidth.PREFERRED, 0)) {
            Weight w = b.prepare(quantized("w", type, rows, cols, new Random(5)));
            Activations x = b.allocate(1, cols), y = b.allocate(1, rows);
            Activations x4 = b.allocate(4, cols), y4 = b.allocate(4, rows);
            Activations x8 = b.allocate(8, cols), y8 = b.allocate(8, rows);
            long allocated = Long.MAX_VALUE;
            for (int window = 0; window < 40 && allocated >= 1024; window++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 1000; i++) {
                    b.matmul(w, x, 1, y);
                    b.matmul(w, x4, 4, y4);
                    b.matmul(w, x8, 8, y8);
                }
                allocated = mx.getCurrentThreadAllocatedBytes() - before;
            }
            assertThat(allocated).as("bytes allocated by 1000 warm %s decode, 4- and 8-token matmuls", type).isLessThan(1024);
        }
    }

    /** A tensor of random quants whose f16 scales are modest (random bits there would be NaN or huge). */
    static dev.offramp.core.tensor.Tensor quantized(String name, DType type, int rows, int cols, Random rnd) {
        int blockBytes = type.blockBytes();
        int[] halves = switch (type) {
            case Q4_0, Q8_0 -> new int[] {0};
            case Q4_K -> new int[] {0, 2};
            case Q6_K -> new int[] {208};
            default -> throw new IllegalArgumentException(type.toString());
        };
        byte[] bytes = new byte[Math.toIntExact(rows * type.bytesFor(cols))];
        rnd.nextBytes(bytes);
        java.lang.foreign.MemorySegment seg = java.lang.foreign.Arena.ofAuto().allocate(bytes.length, 64);
        seg.copyFrom(java.lang.foreign.MemorySegment.ofArray(bytes));
        for (long blk = 0; blk < bytes.length; blk += blockBytes) {
            for (int h : halves) {
                seg.set(TestTensors.I16_LE, blk + h, Float.floatToFloat16((rnd.nextFloat() - 0.5f) * 0.05f));
            }
        }
        return new dev.offramp.core.tensor.Tensor(name, type, new long[] {rows, cols}, seg);
    }
}
