package dev.offramp.loader.gguf;

import java.util.Objects;

/**
 * One typed GGUF metadata value. The type is kept so that a file written back has the same types
 * (llama.cpp checks some keys' types strictly, e.g. {@code general.alignment} must be UINT32).
 * See {@link GgufValueType} for which Java class holds each type.
 *
 * <pre>{@code
 * GgufValue ctx = GgufValue.uint32(2048);
 * long n = ctx.asLong();
 * }</pre>
 *
 * @param type  the GGUF type
 * @param value the value, in the Java class {@link GgufValueType} names for {@code type}
 */
public record GgufValue(GgufValueType type, Object value) {

    public GgufValue {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        Class<?> expected = switch (type) {
            case UINT8, INT8 -> Byte.class;
            case UINT16, INT16 -> Short.class;
            case UINT32, INT32 -> Integer.class;
            case UINT64, INT64 -> Long.class;
            case FLOAT32 -> Float.class;
            case FLOAT64 -> Double.class;
            case BOOL -> Boolean.class;
            case STRING -> String.class;
            case ARRAY -> GgufArray.class;
        };
        if (value.getClass() != expected) {
            throw new IllegalArgumentException("a GGUF " + type + " value must be a " + expected.getSimpleName()
                    + ", got " + value.getClass().getSimpleName());
        }
    }

    public static GgufValue uint8(int v) {
        return new GgufValue(GgufValueType.UINT8, (byte) v);
    }

    public static GgufValue int8(int v) {
        return new GgufValue(GgufValueType.INT8, (byte) v);
    }

    public static GgufValue uint16(int v) {
        return new GgufValue(GgufValueType.UINT16, (short) v);
    }

    public static GgufValue int16(int v) {
        return new GgufValue(GgufValueType.INT16, (short) v);
    }

    public static GgufValue uint32(long v) {
        return new GgufValue(GgufValueType.UINT32, (int) v);
    }

    public static GgufValue int32(int v) {
        return new GgufValue(GgufValueType.INT32, v);
    }

    public static GgufValue uint64(long v) {
        return new GgufValue(GgufValueType.UINT64, v);
    }

    public static GgufValue int64(long v) {
        return new GgufValue(GgufValueType.INT64, v);
    }

    public static GgufValue float32(float v) {
        return new GgufValue(GgufValueType.FLOAT32, v);
    }

    public static GgufValue float64(double v) {
        return new GgufValue(GgufValueType.FLOAT64, v);
    }

    public static GgufValue bool(boolean v) {
        return new GgufValue(GgufValueType.BOOL, v);
    }

    public static GgufValue string(String v) {
        return new GgufValue(GgufValueType.STRING, v);
    }

    public static GgufValue array(GgufArray v) {
        return new GgufValue(GgufValueType.ARRAY, v);
    }

    /** An integer value widened to {@code long} (unsigned types zero-extended; UINT64 keeps its raw bits). */
    public long asLong() {
        return switch (type) {
            case UINT8 -> Byte.toUnsignedLong((Byte) value);
            case INT8 -> (Byte) value;
            case UINT16 -> Short.toUnsignedLong((Short) value);
            case INT16 -> (Short) value;
            case UINT32 -> Integer.toUnsignedLong((Integer) value);
            case INT32 -> (Integer) value;
            case UINT64, INT64 -> (Long) value;
            default -> throw new IllegalStateException("not an integer: " + type);
        };
    }

    /** A numeric value as {@code double} (integers widened). */
    public double asDouble() {
        return switch (type) {
            case FLOAT32 -> (Float) value;
            case FLOAT64 -> (Double) value;
            case UINT64 -> GgufArray.unsignedToDouble((Long) value);
            default -> asLong();
        };
    }

    /**
     * The value as a plain Java object for generic consumers (JSON, {@code ModelSource.metadata()}):
     * UINT8/INT8/UINT16/INT16/INT32 as {@code Integer}, UINT32/INT64/UINT64 as {@code Long},
     * floats as {@code Float}/{@code Double}, arrays as {@link GgufArray}.
     */
    public Object plain() {
        return switch (type) {
            case UINT8, INT8, UINT16, INT16, INT32 -> (int) asLong();
            case UINT32, UINT64, INT64 -> asLong();
            default -> value;
        };
    }

    @Override
    public String toString() {
        return type + ":" + (type == GgufValueType.STRING ? "\"" + value + "\"" : String.valueOf(plain()));
    }
}
