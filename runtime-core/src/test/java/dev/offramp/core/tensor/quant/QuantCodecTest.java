package dev.offramp.core.tensor.quant;

import dev.offramp.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Properties of the reference codecs that hold for any input (the bit-exact comparison with ggml's
 * own output is {@code GgmlQuantVectorsTest} in model-loader, which needs the GGUF reader).
 */
class QuantCodecTest {

    /**
     * Seeded random rows: quantize then dequantize stays within one quantization step of the input
     * (half a step from rounding; Q4_0/Q5_0 clamp the extreme opposite to the largest magnitude to
     * level 15/31, which costs up to a full step there).
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1"})
    void roundTripErrorIsWithinOneStep(DType type) {
        Random rnd = new Random(7 + type.ordinal());
        int n = 32 * 64;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rnd.nextGaussian() * Math.exp(rnd.nextGaussian()));
        }
        x[5] = 0f;
        java.util.Arrays.fill(x, 64, 96, 0f); // an all-zero block: d = 0, no division by zero
        MemorySegment q = MemorySegment.ofArray(new byte[(int) type.bytesFor(n)]);
        Quantize.row(type, x, 0, q, 0, n);
        float[] y = Dequantize.all(type, q, n);
        int levels = switch (type) {
            case Q8_0 -> 127;
            case Q4_0 -> 8;
            case Q5_0 -> 16;
            case Q4_1 -> 15;
            default -> 31;
        };
        for (int b = 0; b < n / 32; b++) {
            float lo = Float.MAX_VALUE;
            float hi = -Float.MAX_VALUE;
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                lo = Math.min(lo, x[32 * b + j]);
                hi = Math.max(hi, x[32 * b + j]);
                amax = Math.max(amax, Math.abs(x[32 * b + j]));
            }
            boolean offset = type == DType.Q4_1 || type == DType.Q5_1;
            double step = offset ? (hi - lo) / levels : amax / levels;
            // A step, plus the f16 rounding of d (and m) spread over the largest level.
            double tol = step + 1e-3 * (Math.abs(hi) + Math.abs(lo)) + 1e-30;
            for (int j = 0; j < 32; j++) {
                int i = 32 * b + j;
                assertThat((double) y[i]).as("%s block %d value %d", type, b, j).isCloseTo(x[i],
                        org.assertj.core.data.Offset.offset(tol));
            }
        }
        for (int i = 64; i < 96; i++) {
            assertThat(y[i]).isEqualTo(0f);
        }
    }

    @Test
    void q8_0RoundsHalvesAwayFromZeroLikeCRoundf() {
        assertThat(Q8_0Codec.roundHalfAway(2.5f)).isEqualTo(3f);
        assertThat(Q8_0Codec.roundHalfAway(-2.5f)).isEqualTo(-3f);
        assertThat(Q8_0Codec.roundHalfAway(0.49999997f)).isEqualTo(0f);
        assertThat(Q8_0Codec.roundHalfAway(-126.5f)).isEqualTo(-127f);
    }

    @Test
    void badRangesNameTypeAndBounds() {
        assertThatThrownBy(() -> Dequantize.row(DType.Q4_K, MemorySegment.ofArray(new byte[100]), 0, new float[256], 0, 256))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("Q4_K").hasMessageContaining("100-byte");
        assertThatThrownBy(() -> Dequantize.row(DType.Q4_0, MemorySegment.ofArray(new byte[36]), 0, new float[32], 0, 64))
                .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("array of 32");
        assertThatThrownBy(() -> Dequantize.row(DType.Q4_0, MemorySegment.ofArray(new byte[36]), 0, new float[64], 0, 33))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number of blocks");
        assertThatThrownBy(() -> Dequantize.row(DType.I32, MemorySegment.ofArray(new byte[8]), 0, new float[2], 0, 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no dequantizer");
        assertThatThrownBy(() -> Quantize.row(DType.Q6_K, new float[256], 0, MemorySegment.ofArray(new byte[210]), 0, 256))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no reference quantizer");
    }

    @Test
    void everyKQuantLayoutConstantMatchesTheTraitsTable() {
        assertThat(Q2_KCodec.BLOCK_BYTES).isEqualTo(DType.Q2_K.blockBytes());
        assertThat(Q3_KCodec.BLOCK_BYTES).isEqualTo(DType.Q3_K.blockBytes());
        assertThat(Q4_KCodec.BLOCK_BYTES).isEqualTo(DType.Q4_K.blockBytes());
        assertThat(Q5_KCodec.BLOCK_BYTES).isEqualTo(DType.Q5_K.blockBytes());
        assertThat(Q6_KCodec.BLOCK_BYTES).isEqualTo(DType.Q6_K.blockBytes());
        assertThat(Q4_0Codec.BLOCK_BYTES).isEqualTo(DType.Q4_0.blockBytes());
        assertThat(Q4_1Codec.BLOCK_BYTES).isEqualTo(DType.Q4_1.blockBytes());
        assertThat(Q5_0Codec.BLOCK_BYTES).isEqualTo(DType.Q5_0.blockBytes());
        assertThat(Q5_1Codec.BLOCK_BYTES).isEqualTo(DType.Q5_1.blockBytes());
        assertThat(Q8_0Codec.BLOCK_BYTES).isEqualTo(DType.Q8_0.blockBytes());
    }
}
