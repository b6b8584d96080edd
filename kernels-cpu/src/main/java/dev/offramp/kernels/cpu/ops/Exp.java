package dev.offramp.kernels.cpu.ops;

/**
 * A float {@code exp} made only of IEEE-exact basic operations (fma, add, mul, bit shifts), so its
 * vector form ({@code VectorOps}) gives bit-identical results to this scalar one, in the interpreter
 * and in C2 alike. The Vector API's own {@code EXP} may call SVML in C2 and {@code Math.exp} in the
 * interpreter, which would make a token's numbers depend on JIT timing.
 *
 * <p>Cody-Waite range reduction {@code x = k ln2 + r}, {@code |r| <= ln2/2}, then a degree-7 Taylor
 * polynomial (truncation error 5e-9 relative, below float precision); about 2 ulp overall.
 * Inputs are clamped to {@code [-87.3, 88.3]} so that {@code 2^k} stays a normal float: below that,
 * results are ~1e-38 instead of a subnormal or 0, which no softmax or SiLU can tell apart.
 */
public final class Exp {
    static final float LOG2E = 1.44269504088896341f;
    static final float LN2_HI = 0.693145751953125f;
    static final float LN2_LO = 1.42860676533018708e-6f;
    /** 1.5 * 2^23: adding and subtracting it rounds to the nearest integer (ties to even). */
    static final float ROUND = 12582912f;
    static final float MIN = -87.3f;
    static final float MAX = 88.3f;
    static final float C2 = 1f / 2;
    static final float C3 = 1f / 6;
    static final float C4 = 1f / 24;
    static final float C5 = 1f / 120;
    static final float C6 = 1f / 720;
    static final float C7 = 1f / 5040;

    private Exp() {
    }

    public static float exp(float x) {
        x = Math.min(Math.max(x, MIN), MAX);
        float k = (x * LOG2E + ROUND) - ROUND;
        float r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        float p = C7;
        p = Math.fma(p, r, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return Float.intBitsToFloat(Float.floatToRawIntBits(p) + ((int) k << 23));
    }

    /** {@code x / (1 + exp(-x))}. */
    public static float silu(float x) {
        return x / (1f + exp(-x));
    }
}
