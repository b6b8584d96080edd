package dev.offramp.core.tensor.quant;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** FP8 E4M3FN and INT4 pack-quantized codecs against brute-force definitions. */
class Fp8Int4CodecTest {

    @Test
    void e4m3fnValueTableIsTheOcpDefinition() {
        assertThat(Fp8E4M3.decode((byte) 0x7E)).isEqualTo(448f);
        assertThat(Fp8E4M3.decode((byte) 0x7F)).isNaN();
        assertThat(Fp8E4M3.decode((byte) 0xFF)).isNaN();
        assertThat(Fp8E4M3.decode((byte) 0x01)).isEqualTo(0x1p-9f);
        assertThat(Fp8E4M3.decode((byte) 0x08)).isEqualTo(0x1p-6f);
        assertThat(Fp8E4M3.decode((byte) 0x38)).isEqualTo(1f);
        assertThat(Fp8E4M3.decode((byte) 0xC0)).isEqualTo(-2f);
        assertThat(Fp8E4M3.decode((byte) 0x78)).isEqualTo(256f); // exponent 15 is finite in FN
        for (int c = 0; c < 256; c++) {
            float v = Fp8E4M3.decode((byte) c);
            if (!Float.isNaN(v)) {
                assertThat(Fp8E4M3.encode(v) & 0xFF).as("code %02x", c).isEqualTo(c);
            }
        }
    }

    @Test
    void encodeRoundsToNearestEvenAndSaturates() {
        float[] t = Fp8E4M3.table();
        Random rnd = new Random(7);
        for (int i = 0; i < 200_000; i++) {
            float x = switch (i % 4) {
                case 0 -> (float) (rnd.nextGaussian() * 100);
                case 1 -> (float) (rnd.nextGaussian() * 0.01);
                case 2 -> (rnd.nextFloat() - 0.5f) * 1200f;
                default -> Fp8E4M3.decode((byte) rnd.nextInt(0x7F)) * (rnd.nextBoolean() ? 1 : -1)
                        + (rnd.nextBoolean() ? 0.5f : -0.5f) * ulpAt(t, rnd.nextInt(0x7E)); // near-ties
            };
            int got = Fp8E4M3.encode(x) & 0xFF;
            assertThat(got).as("x=%s", x).isEqualTo(bruteForce(t, x));
        }
        assertThat(Fp8E4M3.encode(1e9f) & 0xFF).isEqualTo(0x7E);
        assertThat(Fp8E4M3.encode(-500f) & 0xFF).isEqualTo(0xFE);
        assertThat(Fp8E4M3.encode(Float.NaN) & 0x7F).isEqualTo(0x7F);
        // 1.0625 is halfway between 1 (mantissa 0, even) and 1.125: ties go to the even code
        assertThat(Fp8E4M3.encode(1.0625f) & 0xFF).isEqualTo(0x38);
        assertThat(Fp8E4M3.encode(1.1875f) & 0xFF).isEqualTo(0x3A);
    }

    private static float ulpAt(float[] t, int c) {
        return t[c + 1] - t[c];
    }

    /** Nearest finite code by search; ties to the even code; beyond 448 saturates. */
    private static int bruteForce(float[] t, float x) {
        float a = Math.abs(x);
        int sign = (Float.floatToRawIntBits(x) >>> 24) & 0x80;
        if (a >= 448f) {
            return sign | 0x7E;
        }
        int best = 0;
        for (int c = 1; c <= 0x7E; c++) {
            double dc = Math.abs((double) t[c] - a);
            double db = Math.abs((double) t[best] - a);
            if (dc < db || (dc == db && (c & 1) == 0 && (best & 1) == 1)) {
                best = c;
            }
        }
        return sign | best;
    }

    @Test
    void perRowAndBlockScales() {
        try (Arena arena = Arena.ofConfined()) {
            int rows = 130;
            int cols = 260;
            float[] x = new float[rows * cols];
            Random rnd = new Random(1);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian() * (1 + i % 7);
            }
            MemorySegment q = arena.allocate((long) rows * cols);
            float[] scales = new float[rows];
            for (int r = 0; r < rows; r++) {
                Fp8Weights.quantizeRow(x, r * cols, cols, q, (long) r * cols, scales, r);
            }
            MemorySegment s = arena.allocateFrom(ValueLayout.JAVA_FLOAT, scales);
            float[] row = new float[cols];
            double err = 0;
            double ref = 0;
            for (int r = 0; r < rows; r++) {
                Fp8Weights.dequantizeRowPerRow(q, s, r, cols, row, 0);
                for (int c = 0; c < cols; c++) {
                    float e = row[c] - x[r * cols + c];
                    // relative error of E4M3 is at most 2^-4 (half a 3-bit mantissa ulp) above the subnormals
                    assertThat(Math.abs(e)).isLessThanOrEqualTo(Math.abs(x[r * cols + c]) / 16 + scales[r] * 0x1p-10f);
                    err += e * e;
                    ref += x[r * cols + c] * x[r * cols + c];
                }
            }
            assertThat(Math.sqrt(err / ref)).isLessThan(0.04);
            // block layout: scale of block (r/128, c/128); 130 x 260 -> 2 x 3 blocks
            assertThat(Fp8Weights.blockScaleShape(rows, cols)).containsExactly(2, 3);
            float[] blockScales = {1f, 2f, 4f, 8f, 16f, 32f};
            MemorySegment bs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, blockScales);
            Fp8Weights.dequantizeRowBlocked(q, bs, 129, cols, row, 0);
            for (int c = 0; c < cols; c++) {
                float code = Fp8E4M3.decode(q.get(ValueLayout.JAVA_BYTE, 129L * cols + c));
                assertThat(row[c]).isEqualTo(code * blockScales[3 + c / 128]);
            }
        }
    }

    @Test
    void int4PackQuantizedLayoutAndError() {
        try (Arena arena = Arena.ofConfined()) {
            int cols = 256;
            float[] x = new float[cols];
            x[0] = 7.5f;   // amax of group 0 -> scale 1
            x[1] = -7.5f;  // -7.5 ties to even -> -8 (nibble 0)
            x[2] = 2.5f;   // ties to even -> 2 (nibble 10)
            x[3] = -0.4f;  // 0 (nibble 8)
            x[128] = -3f;  // group 1: scale 0.4, q = -7.5 -> -8 (ties to even), nibble 0
            MemorySegment p = arena.allocate(Int4PackQuantized.rowBytes(cols));
            float[] scales = new float[2];
            Int4PackQuantized.quantizeRow(x, 0, cols, 128, p, 0, scales, 0);
            assertThat(scales).containsExactly(1f, 3f / 7.5f);
            int w0 = p.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0);
            assertThat(w0 & 0xFFFF).isEqualTo(0x8A0F); // nibbles 15, 0, 10, 8 (lowest first)
            assertThat(w0 >>> 16).isEqualTo(0x8888);
            Random rnd = new Random(3);
            for (int i = 0; i < cols; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            Int4PackQuantized.quantizeRow(x, 0, cols, 128, p, 0, scales, 0);
            float[] back = new float[cols];
            Int4PackQuantized.dequantizeRow(p, 0, cols, 128, scales, 0, back, 0);
            for (int i = 0; i < cols; i++) {
                assertThat(Math.abs(back[i] - x[i])).isLessThanOrEqualTo(scales[i / 128] * 0.5f + 1e-6f);
            }
        }
    }
}
