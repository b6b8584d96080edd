package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The prefill tiles ({@link QuantDot#dot2x4}, {@link QuantDot#dot3x4}) against one {@link QuantDot#dot} per (row, token), bit for
 * bit, at every width and at lengths that leave an odd whole chunk and a scalar tail (which
 * block-aligned quantized rows never do, so the kernels' own tests never reach those lines).
 */
class QuantDotTest {

    @ParameterizedTest
    @ValueSource(ints = {512, 256, 128})
    void tileGivesDotsBits(int bits) {
        VectorSpecies<Float> species = VectorSpecies.of(float.class, VectorShape.forBitSize(bits));
        QuantDot dot = new QuantDot(QuantSpecies.of(species));
        int l = species.length();
        Random rnd = new Random(bits);
        for (int len : new int[] {3, l, 3 * l, 3 * l + 5, 40 * l + l / 2 + 1, 1043, 2048}) {
            int ws = len + 7;
            int xs = len + 3;
            float[] w = new float[3 * ws];
            float[] x = new float[4 * xs];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] lanes = new float[192];
            float[] want = new float[12];
            for (int r = 0; r < 3; r++) {
                for (int t = 0; t < 4; t++) {
                    want[4 * r + t] = dot.dot(w, r * ws, x, t * xs, len, lanes);
                }
            }
            float[] got = new float[8];
            dot.dot2x4(w, 0, ws, x, 0, xs, len, got, lanes);
            for (int i = 0; i < 8; i++) {
                assertThat(Float.floatToRawIntBits(got[i])).as("2x4 len %d row %d token %d", len, i / 4, i % 4)
                        .isEqualTo(Float.floatToRawIntBits(want[i]));
            }
            float[] got3 = new float[12];
            dot.dot3x4(w, 0, ws, x, 0, xs, len, got3, lanes);
            for (int i = 0; i < 12; i++) {
                assertThat(Float.floatToRawIntBits(got3[i])).as("3x4 len %d row %d token %d", len, i / 4, i % 4)
                        .isEqualTo(Float.floatToRawIntBits(want[i]));
            }
        }
    }
}
