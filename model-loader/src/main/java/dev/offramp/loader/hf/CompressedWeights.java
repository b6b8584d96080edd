package dev.offramp.loader.hf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.core.tensor.quant.GroupScaledRows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Folds the companion tensors of quantized HF checkpoints into one {@link Tensor} per weight, so the
 * rest of the runtime sees one typed weight per name:
 * <ul>
 *   <li>FP8: {@code X.weight} F8_E4M3 plus {@code X.weight_scale} ({@code [rows, 1]} or {@code [rows]},
 *       compressed-tensors "channel") or {@code X.weight_scale_inv} ({@code [ceil(rows/128),
 *       ceil(cols/128)]}, 128x128 blocks of DeepSeek-V3-style checkpoints) become {@link DType#F8_E4M3_G128};</li>
 *   <li>INT4 compressed-tensors pack-quantized: {@code X.weight_packed} I32 {@code [rows, cols/8]},
 *       {@code X.weight_scale} {@code [rows, cols/128]}, {@code X.weight_shape} I64 {@code [2]} become
 *       {@link DType#I4_G128} named {@code X.weight}.</li>
 * </ul>
 * Both types keep the scales in front of each row, which the files store apart, so this copies the
 * codes once into {@code arena} (a per-row scale is repeated per 128 values: 3% more bytes for FP8).
 * Copying is the price of one row-contiguous stream per matmul row; the weights are small next to
 * activations' bandwidth. Static activation scales ({@code X.input_scale}) are dropped: activations
 * stay F32 here. Everything else passes through untouched (still views).
 *
 * <pre>{@code
 * Map<String, Tensor> one = CompressedWeights.fold(dir, checkpoint.tensors(), arena);
 * }</pre>
 */
final class CompressedWeights {
    private static final int GROUP = GroupScaledRows.GROUP;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private CompressedWeights() {
    }

    static Map<String, Tensor> fold(Path dir, Map<String, Tensor> hf, Arena arena) throws HfFormatException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Tensor t : hf.values()) {
            String n = t.name();
            if (n.endsWith(".weight_scale") || n.endsWith(".weight_scale_inv") || n.endsWith(".weight_shape")
                    || n.endsWith(".input_scale")) {
                String w = n.substring(0, n.lastIndexOf('.')) + ".weight";
                if (!n.endsWith(".input_scale") && !hf.containsKey(w) && !hf.containsKey(w + "_packed")) {
                    throw new HfFormatException(dir, "tensor '" + n + "' has no weight '" + w + "' to scale");
                }
                continue;
            }
            if (n.endsWith(".weight_zero_point")) {
                throw new HfFormatException(dir, "tensor '" + n + "': asymmetric (zero-point) INT4 is not supported");
            }
            if (n.endsWith(".weight_packed")) {
                String w = n.substring(0, n.length() - "_packed".length());
                out.put(w, int4(dir, hf, t, w, arena));
            } else if (t.type() == DType.F8_E4M3) {
                out.put(n, fp8(dir, hf, t, arena));
            } else {
                out.put(n, t);
            }
        }
        return out;
    }

    private static Tensor fp8(Path dir, Map<String, Tensor> hf, Tensor q, Arena arena) throws HfFormatException {
        if (q.rank() != 2) {
            throw new HfFormatException(dir, "FP8 tensor '" + q.name() + "' must be a matrix, has shape " + Arrays.toString(q.shape()));
        }
        int rows = Math.toIntExact(q.dim(0));
        int cols = Math.toIntExact(q.dim(1));
        checkCols(dir, q.name(), cols);
        int g = cols / GROUP;
        float[] gs = new float[rows * g];
        Tensor perRow = hf.get(q.name() + "_scale");
        Tensor block = hf.get(q.name() + "_scale_inv");
        if (perRow != null) {
            float[] s = floats(dir, perRow);
            if (s.length != rows) {
                throw new HfFormatException(dir, "tensor '" + perRow.name() + "' has shape " + Arrays.toString(perRow.shape())
                        + " but per-row FP8 scales of '" + q.name() + "' need [" + rows + ", 1]");
            }
            for (int r = 0; r < rows; r++) {
                Arrays.fill(gs, r * g, (r + 1) * g, s[r]);
            }
        } else if (block != null) {
            int br = (rows + GROUP - 1) / GROUP;
            if (block.rank() != 2 || block.dim(0) != br || block.dim(1) != g) {
                throw new HfFormatException(dir, "tensor '" + block.name() + "' has shape " + Arrays.toString(block.shape())
                        + " but 128x128 block scales of '" + q.name() + "' need [" + br + ", " + g + "]");
            }
            float[] s = floats(dir, block);
            for (int r = 0; r < rows; r++) {
                System.arraycopy(s, (r / GROUP) * g, gs, r * g, g);
            }
        } else {
            throw new HfFormatException(dir, "FP8 tensor '" + q.name() + "' has neither '" + q.name() + "_scale' nor '"
                    + q.name() + "_scale_inv'");
        }
        MemorySegment dst = arena.allocate(DType.F8_E4M3_G128.bytesFor((long) rows * cols), 64);
        GroupScaledRows.pack(DType.F8_E4M3_G128, q.data(), gs, rows, cols, dst);
        return new Tensor(q.name(), DType.F8_E4M3_G128, q.shape(), dst);
    }

    private static Tensor int4(Path dir, Map<String, Tensor> hf, Tensor packed, String w, Arena arena) throws HfFormatException {
        Tensor scale = hf.get(w + "_scale");
        Tensor shape = hf.get(w + "_shape");
        if (scale == null || shape == null) {
            throw new HfFormatException(dir, "INT4 tensor '" + packed.name() + "' needs '" + w + "_scale' and '" + w + "_shape'");
        }
        if (shape.type() != DType.I64 && shape.type() != DType.I32 || shape.elementCount() != 2) {
            throw new HfFormatException(dir, "tensor '" + shape.name() + "' must hold two integers, is " + shape);
        }
        long rows = shape.type() == DType.I64 ? shape.data().get(I64, 0) : shape.data().get(ValueLayout.JAVA_INT_UNALIGNED, 0);
        long cols = shape.type() == DType.I64 ? shape.data().get(I64, 8) : shape.data().get(ValueLayout.JAVA_INT_UNALIGNED, 4);
        if (packed.type() != DType.I32 || packed.rank() != 2 || packed.dim(0) != rows || packed.dim(1) * 8 != cols) {
            throw new HfFormatException(dir, "tensor '" + packed.name() + "' " + packed.type() + Arrays.toString(packed.shape())
                    + " does not hold 8 nibbles per I32 of a [" + rows + ", " + cols + "] weight");
        }
        checkCols(dir, w, cols);
        if (scale.rank() != 2 || scale.dim(0) != rows || scale.dim(1) * GROUP != cols) {
            throw new HfFormatException(dir, "tensor '" + scale.name() + "' has shape " + Arrays.toString(scale.shape())
                    + "; only group size " + GROUP + " ([" + rows + ", " + cols / GROUP + "]) is supported");
        }
        float[] gs = floats(dir, scale);
        MemorySegment dst = arena.allocate(DType.I4_G128.bytesFor(rows * cols), 64);
        GroupScaledRows.pack(DType.I4_G128, packed.data(), gs, Math.toIntExact(rows), Math.toIntExact(cols), dst);
        return new Tensor(w, DType.I4_G128, new long[] {rows, cols}, dst);
    }

    private static void checkCols(Path dir, String name, long cols) throws HfFormatException {
        if (cols % GROUP != 0) {
            throw new HfFormatException(dir, "quantized tensor '" + name + "' has rows of " + cols
                    + " values, not whole groups of " + GROUP);
        }
    }

    private static float[] floats(Path dir, Tensor t) throws HfFormatException {
        if (t.type() != DType.F32 && t.type() != DType.BF16 && t.type() != DType.F16) {
            throw new HfFormatException(dir, "scale tensor '" + t.name() + "' is " + t.type() + "; expected F32, BF16 or F16");
        }
        float[] f = new float[Math.toIntExact(t.elementCount())];
        Dequantize.row(t.type(), t.data(), 0, f, 0, f.length);
        return f;
    }
}
