package dev.offramp.loader.synth;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.KQuantizers;
import dev.offramp.core.tensor.quant.Quantize;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;

/**
 * Streams one synthetic tensor into a channel a few rows at a time: float values from a
 * counter-free SplitMix64 sequence seeded by (model seed, tensor name), quantized row by row with
 * the reference quantizers. Memory use is bounded by one chunk whatever the tensor size, and the
 * bytes depend only on the seed, the name, the shape and the type.
 */
final class WeightStream {

    /** Uniform on [-a, a] has standard deviation a / sqrt(3): this gives 0.02, a typical init scale. */
    private static final float HALF_WIDTH = (float) (0.02 * Math.sqrt(3.0));
    private static final int CHUNK_VALUES = 1 << 20;

    private final long seed;

    WeightStream(long seed) {
        this.seed = seed;
    }

    void write(PlannedTensor t, float[] explicitValues, WritableByteChannel out) throws IOException {
        long[] shape = t.shape();
        int cols = shape.length == 0 ? 1 : Math.toIntExact(shape[shape.length - 1]);
        long rows = t.elements() / Math.max(1, cols);
        DType type = t.type();
        long rowBytes = type.bytesFor(cols);
        int rowsPerChunk = (int) Math.max(1, Math.min(rows, CHUNK_VALUES / Math.max(1, cols)));
        float[] values = new float[rowsPerChunk * cols];
        byte[] bytes = new byte[Math.toIntExact(rowsPerChunk * rowBytes)];
        MemorySegment seg = MemorySegment.ofArray(bytes);
        long state = mix(seed ^ nameHash(t.name()));
        long done = 0;
        while (done < rows) {
            int n = (int) Math.min(rowsPerChunk, rows - done);
            int count = n * cols;
            switch (t.fill()) {
                case RANDOM -> {
                    for (int i = 0; i < count; i++) {
                        state += 0x9E3779B97F4A7C15L;
                        long z = mix(state);
                        float u = (z >>> 40) * 0x1.0p-24f;
                        values[i] = (2f * u - 1f) * HALF_WIDTH;
                    }
                }
                case ONES -> java.util.Arrays.fill(values, 0, count, 1f);
                case ZERO -> java.util.Arrays.fill(values, 0, count, 0f);
                case ROPE_FREQS -> System.arraycopy(explicitValues, Math.toIntExact(done * cols), values, 0, count);
            }
            for (int r = 0; r < n; r++) {
                encode(type, values, r * cols, seg, r * rowBytes, cols);
            }
            ByteBuffer buf = ByteBuffer.wrap(bytes, 0, Math.toIntExact(n * rowBytes));
            while (buf.hasRemaining()) {
                out.write(buf);
            }
            done += n;
        }
    }

    static boolean canEncode(DType t) {
        return Quantize.supports(t) || KQuantizers.supports(t);
    }

    /** Reference quantizers: ggml's closed-form ones, or the k-quant searches. */
    static void encode(DType t, float[] src, int off, MemorySegment dst, long at, int count) {
        if (KQuantizers.supports(t)) {
            KQuantizers.row(t, src, off, dst, at, count);
        } else {
            Quantize.row(t, src, off, dst, at, count);
        }
    }

    /** SplitMix64's finalizer: a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A stable 64-bit FNV-1a hash of the name (String.hashCode would do, but 32 bits collide sooner). */
    static long nameHash(String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }
}
