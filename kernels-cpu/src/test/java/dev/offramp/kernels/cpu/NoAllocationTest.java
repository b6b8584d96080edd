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
}
