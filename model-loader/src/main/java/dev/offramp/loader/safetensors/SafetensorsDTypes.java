package dev.offramp.loader.safetensors;

import dev.offramp.core.tensor.DType;

import java.util.Optional;

/**
 * The safetensors dtype strings this runtime can represent, mapped onto {@link DType}. Types
 * without a {@code DType} counterpart ({@code BOOL}, {@code U16}, {@code U32}, {@code U64},
 * {@code F8_E8M0}, ...) are rejected by the reader with the tensor's name.
 */
public final class SafetensorsDTypes {

    private SafetensorsDTypes() {
    }

    /** The runtime type for a header's {@code dtype} string, if it has one. */
    public static Optional<DType> fromName(String name) {
        return Optional.ofNullable(switch (name) {
            case "F64" -> DType.F64;
            case "F32" -> DType.F32;
            case "F16" -> DType.F16;
            case "BF16" -> DType.BF16;
            case "F8_E4M3" -> DType.F8_E4M3;
            case "F8_E5M2" -> DType.F8_E5M2;
            case "I64" -> DType.I64;
            case "I32" -> DType.I32;
            case "I16" -> DType.I16;
            case "I8" -> DType.I8;
            case "U8" -> DType.U8;
            default -> null;
        });
    }

    /** The header string for {@code type}; empty for ggml block types, which safetensors cannot hold. */
    public static Optional<String> nameOf(DType type) {
        return Optional.ofNullable(switch (type) {
            case F64 -> "F64";
            case F32 -> "F32";
            case F16 -> "F16";
            case BF16 -> "BF16";
            case F8_E4M3 -> "F8_E4M3";
            case F8_E5M2 -> "F8_E5M2";
            case I64 -> "I64";
            case I32 -> "I32";
            case I16 -> "I16";
            case I8 -> "I8";
            case U8 -> "U8";
            default -> null;
        });
    }
}
