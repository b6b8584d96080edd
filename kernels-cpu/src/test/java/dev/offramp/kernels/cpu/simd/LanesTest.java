package dev.offramp.kernels.cpu.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class LanesTest {

    /** Every one of the 65536 half bit patterns widens exactly like {@link Float#float16ToFloat}. */
    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128, 64})
    void halfToFloatIsExactForAllBitPatterns(int bits) {
        VectorSpecies<Integer> is = VectorSpecies.of(int.class, VectorShape.forBitSize(bits));
        int l = is.length();
        int[] in = new int[l];
        float[] out = new float[l];
        for (int h = 0; h < 65536; h += l) {
            for (int i = 0; i < l; i++) {
                in[i] = (short) (h + i); // sign-extended, as a S2I conversion produces
            }
            Lanes.halfToFloat(IntVector.fromArray(is, in, 0)).intoArray(out, 0);
            for (int i = 0; i < l; i++) {
                float want = Float.float16ToFloat((short) (h + i));
                assertThat(Float.floatToRawIntBits(out[i])).as("half 0x%04x", h + i)
                        .isEqualTo(Float.floatToRawIntBits(want));
            }
        }
    }

    /** The finite-only widening agrees with {@link Float#float16ToFloat} on every finite half. */
    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128, 64})
    void finiteHalfToFloatIsExactForFiniteHalves(int bits) {
        VectorSpecies<Integer> is = VectorSpecies.of(int.class, VectorShape.forBitSize(bits));
        int l = is.length();
        int[] in = new int[l];
        float[] out = new float[l];
        for (int h = 0; h < 65536; h += l) {
            for (int i = 0; i < l; i++) {
                in[i] = (short) (h + i);
            }
            Lanes.finiteHalfToFloat(IntVector.fromArray(is, in, 0)).intoArray(out, 0);
            for (int i = 0; i < l; i++) {
                if (((h + i) & 0x7C00) == 0x7C00) {
                    continue; // infinities and NaNs are the caller's to exclude
                }
                assertThat(Float.floatToRawIntBits(out[i])).as("half 0x%04x", h + i)
                        .isEqualTo(Float.floatToRawIntBits(Float.float16ToFloat((short) (h + i))));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128, 64})
    void bf16IsTheUpperHalf(int bits) {
        VectorSpecies<Integer> is = VectorSpecies.of(int.class, VectorShape.forBitSize(bits));
        int[] in = new int[is.length()];
        float[] out = new float[is.length()];
        for (int h = 0; h < 65536; h += in.length) {
            for (int i = 0; i < in.length; i++) {
                in[i] = (short) (h + i);
            }
            Lanes.bf16ToFloat(IntVector.fromArray(is, in, 0)).intoArray(out, 0);
            for (int i = 0; i < in.length; i++) {
                assertThat(Float.floatToRawIntBits(out[i])).isEqualTo((h + i) << 16);
            }
        }
    }

    /** The lane sum, in registers or through memory, follows its documented pairwise tree exactly (not just approximately). */
    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128, 64})
    void sumFollowsTheFixedTree(int bits) {
        VectorSpecies<Float> s = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        Random rnd = new Random(bits);
        float[] a = new float[s.length()];
        for (int k = 0; k < 1000; k++) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(8) - 4));
            }
            float got = Lanes.sum(FloatVector.fromArray(s, a, 0));
            assertThat(Float.floatToRawIntBits(got)).isEqualTo(Float.floatToRawIntBits(Lanes.sumModel(a, 0, a.length)));
            // through memory (tree8 / tree16 at those widths): the same bits
            float stored = Lanes.sum(FloatVector.fromArray(s, a, 0), new float[a.length]);
            assertThat(Float.floatToRawIntBits(stored)).isEqualTo(Float.floatToRawIntBits(got));
        }
    }

    /** tree16 over several stored vectors gives tree()'s bits for each, wide-ranging values included. */
    @org.junit.jupiter.api.Test
    void tree16EqualsTreePerVector() {
        Random rnd = new Random(16);
        for (int count : new int[] {1, 8, 12}) {
            for (int round = 0; round < 200; round++) {
                float[] a = new float[16 * count];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(40) - 20));
                }
                float[] want = new float[count];
                for (int r = 0; r < count; r++) {
                    want[r] = Lanes.tree(java.util.Arrays.copyOfRange(a, 16 * r, 16 * r + 16), 16);
                }
                Lanes.tree16(a, count);
                for (int r = 0; r < count; r++) {
                    assertThat(Float.floatToRawIntBits(a[16 * r])).as("count %d vector %d", count, r)
                            .isEqualTo(Float.floatToRawIntBits(want[r]));
                }
            }
        }
    }

    /** trees over stored vectors of 4, 8 and 16 lanes gives tree()'s bits for each (the attention scores' lane sums). */
    @org.junit.jupiter.api.Test
    void treesEqualTreePerVectorAtEveryWidth() {
        Random rnd = new Random(17);
        for (int lanes : new int[] {4, 8, 16}) {
            for (int round = 0; round < 100; round++) {
                int count = 4;
                float[] a = new float[lanes * count];
                for (int i = 0; i < a.length; i++) {
                    a[i] = (float) (rnd.nextGaussian() * Math.scalb(1.0, rnd.nextInt(40) - 20));
                }
                float[] want = new float[count];
                for (int r = 0; r < count; r++) {
                    want[r] = Lanes.tree(java.util.Arrays.copyOfRange(a, lanes * r, lanes * r + lanes), lanes);
                }
                Lanes.trees(a, lanes, count);
                for (int r = 0; r < count; r++) {
                    assertThat(Float.floatToRawIntBits(a[lanes * r])).as("lanes %d vector %d", lanes, r)
                            .isEqualTo(Float.floatToRawIntBits(want[r]));
                }
            }
        }
    }
}
