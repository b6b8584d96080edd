package dev.offramp.loader.synth;

import dev.offramp.core.tensor.DType;

import java.util.Arrays;

/**
 * One tensor of a synthetic model, before any byte of it exists.
 *
 * @param name  GGUF name
 * @param type  storage type
 * @param shape dimensions, outermost first
 * @param fill  how its values are made
 */
public record PlannedTensor(String name, DType type, long[] shape, Fill fill) {

    /** How a synthetic tensor's values are made. */
    public enum Fill {
        /** Uniform random values with standard deviation 0.02, from a stream seeded by (seed, name). */
        RANDOM,
        /** All 1.0 (RMSNorm weights). */
        ONES,
        /** All zero (inert layers' output projections); written as a file hole. */
        ZERO,
        /** Llama 3 RoPE frequency divisors. */
        ROPE_FREQS
    }

    public PlannedTensor {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    public long elements() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    public long byteSize() {
        return type.bytesFor(elements());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PlannedTensor p && name.equals(p.name) && type == p.type && Arrays.equals(shape, p.shape)
                && fill == p.fill;
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape) + " " + fill;
    }
}
