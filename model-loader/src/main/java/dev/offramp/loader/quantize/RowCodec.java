package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.quant.KQuantizers;
import dev.offramp.core.tensor.quant.Quantize;

import java.lang.foreign.MemorySegment;

/** One entry point over every quantizer the project has (ggml's closed-form ones and the k-quant searches). */
public final class RowCodec {

    private RowCodec() {
    }

    /** Types {@code offramp quantize} can write into a GGUF. */
    public static boolean canEncode(DType type) {
        return Quantize.supports(type) || KQuantizers.supports(type);
    }

    /** Encodes {@code count} values (whole blocks) of {@code src} from {@code srcOffset} into {@code dst} at {@code byteOffset}. */
    public static void encode(DType type, float[] src, int srcOffset, MemorySegment dst, long byteOffset, int count) {
        if (KQuantizers.supports(type)) {
            KQuantizers.row(type, src, srcOffset, dst, byteOffset, count);
        } else {
            Quantize.row(type, src, srcOffset, dst, byteOffset, count);
        }
    }
}
