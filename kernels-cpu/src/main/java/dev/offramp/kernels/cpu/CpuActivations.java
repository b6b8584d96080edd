package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Activations;

/**
 * Activations of the CPU backend: one heap {@code float[]} of {@code rows * cols} values, row-major.
 * Heap arrays keep the kernels free of bounds-check-heavy segment code and let C2 vectorize freely.
 */
public final class CpuActivations implements Activations {
    private final int rows;
    private final int cols;
    final float[] data;

    CpuActivations(int rows, int cols) {
        if (rows <= 0 || cols <= 0) {
            throw new IllegalArgumentException("activations need positive rows and cols, got [" + rows + ", " + cols + "]");
        }
        if ((long) rows * cols > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("activations [" + rows + ", " + cols + "] exceed one Java array");
        }
        this.rows = rows;
        this.cols = cols;
        this.data = new float[rows * cols];
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int cols() {
        return cols;
    }

    /** The backing array (row {@code t} starts at {@code t * cols()}); for tests and benchmarks. */
    public float[] array() {
        return data;
    }

    @Override
    public String toString() {
        return "CpuActivations[" + rows + ", " + cols + "]";
    }
}
