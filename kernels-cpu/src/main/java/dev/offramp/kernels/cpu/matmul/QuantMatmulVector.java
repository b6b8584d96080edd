package dev.offramp.kernels.cpu.matmul;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.Dequantize;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * Vector quantized matmul: each weight row is decoded once into a per-thread float buffer (the exact
 * values of ggml's dequantization), then dotted with every token of the batch by {@link QuantDot}. So
 * a row's blocks are decoded once for all {@code n} tokens (prefill), and each (token, row) has the
 * same accumulation order for any {@code n} and any row split (batch invariance).
 *
 * <p>This base class decodes with the runtime-core reference codec; the per-type subclasses
 * ({@link Q4_0MatmulVector} ...) decode with vector byte operations and may add a fused path that must
 * give the same bits.
 */
public class QuantMatmulVector implements MatmulKernel {
    final DType type;
    /** Species constants; hot code reads them through this object (see {@link QuantSpecies}). */
    final QuantSpecies qs;
    final QuantDot dot;
    private final MatmulKernel scalar;
    private final ThreadLocal<Scratch> scratch = new ThreadLocal<>();

    /** Per-thread buffers: kernels are shared by the worker threads, which split the rows. */
    static final class Scratch {
        float[] row = new float[0];
        final float[] lanes = new float[64];
    }

    /**
     * @param type    the ggml weight type
     * @param species float species; tests pass 128/256/512-bit ones to cover narrower machines
     * @param scalar  the scalar twin of this kernel
     */
    public QuantMatmulVector(DType type, VectorSpecies<Float> species, MatmulKernel scalar) {
        if (scalar.type() != type) {
            throw new IllegalArgumentException("scalar twin is for " + scalar.type() + ", not " + type);
        }
        this.type = type;
        this.qs = QuantSpecies.of(species);
        this.dot = new QuantDot(qs);
        this.scalar = scalar;
    }

    @Override
    public final DType type() {
        return type;
    }

    @Override
    public final MatmulKernel scalar() {
        return scalar;
    }

    public final VectorSpecies<Float> species() {
        return qs.floats();
    }

    @Override
    public void matmul(MemorySegment w, int cols, float[] x, int xStride, int n,
                       float[] out, int outStride, int rowStart, int rowEnd) {
        long rowBytes = QuantMatmulArgs.check(type, w, cols, x, xStride, n, out, outStride, rowStart, rowEnd);
        if (n == 0) {
            return;
        }
        Scratch s = scratch(cols);
        if (n == 1 && fusedSupported()) {
            // Decode (one token): no row buffer round trip; same operations in the same order as below.
            for (int r = rowStart; r < rowEnd; r++) {
                out[r] = fusedDot(w, r * rowBytes, cols, x, 0, s.lanes);
            }
            return;
        }
        float[] row = s.row;
        for (int r = rowStart; r < rowEnd; r++) {
            decodeRow(w, r * rowBytes, cols, row);
            for (int t = 0; t < n; t++) {
                out[t * outStride + r] = dot.dot(row, 0, x, t * xStride, cols, s.lanes);
            }
        }
    }

    /** Whether {@link #fusedDot} exists for this type and width. */
    boolean fusedSupported() {
        return false;
    }

    /**
     * Dot product of one weight row with one token, decoding on the fly. Must return exactly
     * {@code dot.dot(decoded row, x)}: the same dequantized values, fused into the same accumulators in
     * the same order (chunk c of {@code lanes} values into accumulator c % 4, then {@link QuantDot}'s
     * final sum). Batch-invariance tests compare it with the decoded path bit for bit.
     */
    float fusedDot(MemorySegment w, long base, int cols, float[] x, int xo, float[] lanesTmp) {
        throw new UnsupportedOperationException();
    }

    /**
     * Writes the {@code cols} dequantized values of the row at byte {@code base} into {@code dst}:
     * bit-identical to {@link Dequantize#row} (tests hold every subclass to that).
     */
    void decodeRow(MemorySegment w, long base, int cols, float[] dst) {
        Dequantize.row(type, w, base, dst, 0, cols);
    }

    final Scratch scratch(int cols) {
        Scratch s = scratch.get();
        if (s == null) {
            s = new Scratch();
            scratch.set(s);
        }
        if (s.row.length < cols) {
            s.row = new float[cols];
        }
        return s;
    }

    /** Widens {@code q}'s lanes to float, multiplies by {@code scale}, stores {@code byteLanes} values at {@code dst[o]}. */
    final void storeScaled(ByteVector q, FloatVector scale, float[] dst, int o) {
        VectorSpecies<Float> fs = qs.floats();
        int lanes = fs.length();
        int parts = qs.bytes().length() / lanes;
        for (int p = 0; p < parts; p++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, fs, p)).mul(scale).intoArray(dst, o + p * lanes);
        }
    }

    /** As {@link #storeScaled} then minus {@code min} (two roundings, as ggml's {@code d * q - m}). */
    final void storeScaledMinus(ByteVector q, FloatVector scale, FloatVector min, float[] dst, int o) {
        VectorSpecies<Float> fs = qs.floats();
        int lanes = fs.length();
        int parts = qs.bytes().length() / lanes;
        for (int p = 0; p < parts; p++) {
            ((FloatVector) q.convertShape(VectorOperators.B2F, fs, p)).mul(scale).sub(min)
                    .intoArray(dst, o + p * lanes);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + type + ", " + qs.floats() + "]";
    }
}
