package dev.offramp.kernels.cpu;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

/** Builds tensors in native memory (like a mapped file) from float values, for tests. */
public final class TestTensors {
    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TestTensors() {
    }

    public static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** Values exactly representable in {@code type} (F16/BF16 round-trip), so references see what kernels see. */
    public static float[] representable(DType type, float[] v) {
        float[] r = v.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] = switch (type) {
                case F16 -> Float.float16ToFloat(Float.floatToFloat16(r[i]));
                case BF16 -> Float.intBitsToFloat(Float.floatToRawIntBits(r[i]) & 0xFFFF0000);
                default -> r[i];
            };
        }
        return r;
    }

    /** A {@code [rows, cols]} tensor of {@code type} holding {@code values} (rounded to the type). */
    public static Tensor tensor(String name, DType type, float[] values, long... shape) {
        int n = values.length;
        MemorySegment seg = Arena.ofAuto().allocate(type.bytesFor(n), 64);
        for (int i = 0; i < n; i++) {
            switch (type) {
                case F32 -> seg.set(F32_LE, 4L * i, values[i]);
                case F16 -> seg.set(I16_LE, 2L * i, Float.floatToFloat16(values[i]));
                case BF16 -> seg.set(I16_LE, 2L * i, (short) (Float.floatToRawIntBits(values[i]) >>> 16));
                default -> throw new IllegalArgumentException("test helper does not encode " + type);
            }
        }
        return new Tensor(name, type, shape, seg);
    }
}
