package dev.offramp.core.tensor.quant;

/**
 * OCP FP8 E4M3 "FN" (the {@code float8_e4m3fn} of PyTorch and of HF FP8 checkpoints): 1 sign bit,
 * 4 exponent bits (bias 7), 3 mantissa bits; no infinities; {@code S.1111.111} is NaN, so the
 * largest finite value is {@code 1.75 * 2^8 = 448}; subnormals {@code m/8 * 2^-6}.
 *
 * <p>Encoding rounds to nearest, ties to even, and saturates finite values beyond 448 to +-448
 * (what quantizers do after scaling; a plain cast would give NaN).
 *
 * <pre>{@code
 * byte b = Fp8E4M3.encode(3.3f);   // 0x45 = 3.25
 * float f = Fp8E4M3.decode(b);
 * }</pre>
 */
public final class Fp8E4M3 {

    /** Largest finite value. */
    public static final float MAX = 448f;

    private static final float[] DECODE = new float[256];

    static {
        for (int c = 0; c < 256; c++) {
            int exp = (c >>> 3) & 0xF;
            int man = c & 7;
            float v;
            if (exp == 0xF && man == 7) {
                v = Float.NaN;
            } else if (exp == 0) {
                v = man * 0x1p-9f;
            } else {
                v = (1 + man / 8f) * Math.scalb(1f, exp - 7);
            }
            DECODE[c] = (c & 0x80) != 0 ? -v : v;
        }
    }

    private Fp8E4M3() {
    }

    public static float decode(byte b) {
        return DECODE[b & 0xFF];
    }

    /** The decode table (256 entries, indexed by the unsigned code); a copy. */
    public static float[] table() {
        return DECODE.clone();
    }

    public static byte encode(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 24) & 0x80;
        if (Float.isNaN(f)) {
            return (byte) (sign | 0x7F);
        }
        float a = Math.abs(f);
        if (a >= MAX) {
            return (byte) (sign | 0x7E);
        }
        int code;
        if (a < 0x1p-6f) {
            // Subnormal range: a * 2^9 is exact, so rint gives ties-to-even on the 3-bit mantissa;
            // a result of 8 is the smallest normal, whose code is also 8.
            code = (int) Math.rint(a * 512f);
        } else {
            int ab = Float.floatToRawIntBits(a);
            // Drop 20 of float's 23 mantissa bits, rounding to nearest even (a carry may bump the exponent).
            int r = (ab + 0x7FFFF + ((ab >>> 20) & 1)) & ~0xFFFFF;
            int exp = (r >>> 23) - 127 + 7;
            int man = (r >>> 20) & 7;
            code = Math.min(0x7E, (exp << 3) | man);
        }
        return (byte) (sign | code);
    }
}
