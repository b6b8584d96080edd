package dev.offramp.loader.gguf;

import java.util.Optional;

/**
 * The metadata value types of GGUF, with their on-disk type ids. Java holds each value as follows
 * (unsigned types keep their raw bits; {@link GgufValue} widens them on request):
 * UINT8/INT8 {@code Byte}, UINT16/INT16 {@code Short}, UINT32/INT32 {@code Integer},
 * UINT64/INT64 {@code Long}, FLOAT32 {@code Float}, FLOAT64 {@code Double}, BOOL {@code Boolean},
 * STRING {@code String}, ARRAY {@link GgufArray}.
 */
public enum GgufValueType {
    UINT8(0, 1),
    INT8(1, 1),
    UINT16(2, 2),
    INT16(3, 2),
    UINT32(4, 4),
    INT32(5, 4),
    FLOAT32(6, 4),
    BOOL(7, 1),
    STRING(8, 8),
    ARRAY(9, 12),
    UINT64(10, 8),
    INT64(11, 8),
    FLOAT64(12, 8);

    private final int id;
    private final int minBytes;

    GgufValueType(int id, int minBytes) {
        this.id = id;
        this.minBytes = minBytes;
    }

    /** The type id stored in the file. */
    public int id() {
        return id;
    }

    /**
     * Fewest bytes one value of this type takes in a file (a string: its 8-byte length; an array:
     * element type and count). Used to reject absurd counts before allocating anything.
     */
    int minBytes() {
        return minBytes;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }

    public boolean isUnsigned() {
        return this == UINT8 || this == UINT16 || this == UINT32 || this == UINT64;
    }

    public static Optional<GgufValueType> fromId(int id) {
        for (GgufValueType t : values()) {
            if (t.id == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
