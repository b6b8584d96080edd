package dev.offramp.core.tensor;

import java.util.Optional;

/**
 * Every storage type a weight or activation can have: the ggml types (with ggml's numeric ids, so a
 * GGUF type field maps straight onto this enum) plus the safetensors-only types (FP8, integers).
 *
 * <p>This is the single traits table of the project (after ggml's {@code type_traits}): block size
 * in elements and bytes per block. Quantized types store {@code blockSize} elements in
 * {@code blockBytes} bytes; plain types have a block size of 1.
 *
 * <pre>{@code
 * long bytes = DType.Q4_0.bytesFor(4096);   // 4096 / 32 * 18 = 2304
 * }</pre>
 */
public enum DType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    BF16(30, 1, 2),
    /** OCP FP8 E4M3 "FN" (no infinities, max 448); not a ggml type. */
    F8_E4M3(-1, 1, 1),
    /** OCP FP8 E5M2; not a ggml type. */
    F8_E5M2(-2, 1, 1),
    U8(-3, 1, 1),
    /**
     * INT4 symmetric in groups of 128 with an F32 scale per group, as a CPU-ready row layout: each row
     * is {@code [cols/128 f32 scales][cols/2 bytes]}, value {@code 2j} in the low nibble of byte
     * {@code j}, stored {@code q + 8} (compressed-tensors pack-quantized nibbles). Made by loaders
     * from {@code weight_packed} + {@code weight_scale}; not a ggml type. 4 + 64 bytes per 128 values.
     */
    I4_G128(-4, 128, 68),
    /**
     * FP8 E4M3FN with an F32 scale per 128 values of a row, as a CPU-ready row layout: each row is
     * {@code [cols/128 f32 scales][cols fp8 bytes]}. Covers both the per-row {@code weight_scale}
     * (every group of a row gets the row's scale) and the 128x128-block {@code weight_scale_inv}
     * layouts of HF FP8 checkpoints; not a ggml type. 4 + 128 bytes per 128 values.
     */
    F8_E4M3_G128(-5, 128, 132);

    private final int ggmlId;
    private final int blockSize;
    private final int blockBytes;

    DType(int ggmlId, int blockSize, int blockBytes) {
        this.ggmlId = ggmlId;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** ggml's numeric type id, or a negative number for types ggml does not have. */
    public int ggmlId() {
        return ggmlId;
    }

    /** Elements per block (1 for plain types, 32 for Q*_0/Q*_1, 256 for k-quants). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes needed for {@code elements} values; the count must be a whole number of blocks. */
    public long bytesFor(long elements) {
        if (elements < 0 || elements % blockSize != 0) {
            throw new IllegalArgumentException(
                    this + " stores blocks of " + blockSize + " values; " + elements + " is not a multiple");
        }
        return Math.multiplyExact(elements / blockSize, (long) blockBytes);
    }

    /** The type with this ggml id, if ggml has one this runtime knows. */
    public static Optional<DType> fromGgmlId(int id) {
        if (id < 0) {
            return Optional.empty();
        }
        for (DType t : values()) {
            if (t.ggmlId == id) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
