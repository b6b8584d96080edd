package dev.offramp.kernels.cpu;

/**
 * A parallel loop body over items {@code [start, end)}. Implementations are long-lived mutable
 * objects owned by one calling thread and refilled per op, so dispatching allocates nothing.
 */
interface RangeTask {
    void run(int start, int end, Scratch scratch);
}
