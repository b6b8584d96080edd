package dev.offramp.loader.gguf;

import java.lang.reflect.Array;
import java.util.Arrays;
import java.util.Objects;

/**
 * A GGUF metadata array: one element type and the elements, held in the array type that matches it
 * ({@code byte[]} for UINT8/INT8, {@code short[]} for UINT16/INT16, {@code int[]} for UINT32/INT32,
 * {@code long[]} for UINT64/INT64, {@code float[]}, {@code double[]}, {@code boolean[]},
 * {@code String[]}, and {@code GgufArray[]} for nested arrays). Unsigned elements keep their raw bits.
 *
 * <pre>{@code
 * GgufArray tokens = GgufArray.ofStrings("<unk>", "<s>", "</s>");
 * String[] pieces = tokens.strings();
 * }</pre>
 *
 * @param elementType type of every element
 * @param values      the elements (not copied: do not modify)
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public GgufArray {
        Objects.requireNonNull(elementType, "elementType");
        Objects.requireNonNull(values, "values");
        Class<?> expected = javaArrayType(elementType);
        if (values.getClass() != expected) {
            throw new IllegalArgumentException("a GGUF " + elementType + " array must be held in a "
                    + expected.getSimpleName() + ", got " + values.getClass().getSimpleName());
        }
    }

    static Class<?> javaArrayType(GgufValueType t) {
        return switch (t) {
            case UINT8, INT8 -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case BOOL -> boolean[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufArray[].class;
        };
    }

    public static GgufArray ofStrings(String... values) {
        return new GgufArray(GgufValueType.STRING, values.clone());
    }

    public static GgufArray ofFloats(float... values) {
        return new GgufArray(GgufValueType.FLOAT32, values.clone());
    }

    public static GgufArray ofInt32s(int... values) {
        return new GgufArray(GgufValueType.INT32, values.clone());
    }

    public int size() {
        return Array.getLength(values);
    }

    /** The elements of a STRING array. */
    public String[] strings() {
        return (String[]) require(GgufValueType.STRING);
    }

    /** The elements of a FLOAT32 array. */
    public float[] floats() {
        return (float[]) require(GgufValueType.FLOAT32);
    }

    /** The elements of an INT32/UINT32 array, raw bits. */
    public int[] int32s() {
        if (elementType != GgufValueType.INT32 && elementType != GgufValueType.UINT32) {
            throw new IllegalStateException("not a 32-bit integer array: " + elementType);
        }
        return (int[]) values;
    }

    /** Element {@code i} as a widened {@code long} (unsigned types zero-extended); integer arrays only. */
    public long getLong(int i) {
        return switch (elementType) {
            case UINT8 -> Byte.toUnsignedLong(((byte[]) values)[i]);
            case INT8 -> ((byte[]) values)[i];
            case UINT16 -> Short.toUnsignedLong(((short[]) values)[i]);
            case INT16 -> ((short[]) values)[i];
            case UINT32 -> Integer.toUnsignedLong(((int[]) values)[i]);
            case INT32 -> ((int[]) values)[i];
            case UINT64, INT64 -> ((long[]) values)[i];
            default -> throw new IllegalStateException("not an integer array: " + elementType);
        };
    }

    /** Element {@code i} as a {@code double}; numeric arrays only. */
    public double getDouble(int i) {
        return switch (elementType) {
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case UINT64 -> unsignedToDouble(((long[]) values)[i]);
            default -> getLong(i);
        };
    }

    /** Element {@code i} boxed as {@link GgufValue#plain()} would box a scalar of this type. */
    public Object plain(int i) {
        return switch (elementType) {
            case UINT8, INT8, UINT16, INT16, INT32 -> (int) getLong(i);
            case UINT32, UINT64, INT64 -> getLong(i);
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case BOOL -> ((boolean[]) values)[i];
            case STRING -> ((String[]) values)[i];
            case ARRAY -> ((GgufArray[]) values)[i];
        };
    }

    static double unsignedToDouble(long v) {
        return v >= 0 ? v : (double) (v >>> 1) * 2.0 + (v & 1);
    }

    private Object require(GgufValueType t) {
        if (elementType != t) {
            throw new IllegalStateException("not a " + t + " array: " + elementType);
        }
        return values;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType && Objects.deepEquals(values, a.values);
    }

    @Override
    public int hashCode() {
        return elementType.hashCode() * 31 + Arrays.deepHashCode(new Object[] {values});
    }

    @Override
    public String toString() {
        int n = size();
        StringBuilder sb = new StringBuilder(elementType.name()).append('[').append(n).append("]{");
        for (int i = 0; i < Math.min(n, 8); i++) {
            sb.append(i == 0 ? "" : ", ").append(plain(i));
        }
        return sb.append(n > 8 ? ", ...}" : "}").toString();
    }
}
