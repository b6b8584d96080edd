package dev.offramp.bench.kernels;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * Weight bytes a matmul benchmark streamed, as a JMH auxiliary counter: JMH reports it per second as
 * the {@code :weightBytes} row, which is the GB/s figure docs/benchmarks.md quotes.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class WeightBytes {
    public long weightBytes;

    @Setup(Level.Iteration)
    public void reset() {
        weightBytes = 0;
    }
}
