package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tensor.quant.Dequantize;
import dev.offramp.core.tensor.quant.KQuantizers;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our k-quant search against ggml's own quantization of the same 32 x 256 real weights
 * ({@code quant.<type>} in ggml-quant-vectors.gguf): RMS error must be no worse (1e-6 relative slack
 * for float summation order); in fact the bytes are identical to ggml's.
 */
class KQuantErrorTest {

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void rmsErrorNoWorseThanGgml(DType type) throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.model("derived/ggml-quant-vectors.gguf"));
             Arena arena = Arena.ofConfined()) {
            Tensor src = f.tensor("source.f32");
            int n = (int) src.elementCount();
            float[] x = Dequantize.all(DType.F32, src.data(), n);
            MemorySegment ours = arena.allocate(type.bytesFor(n));
            int cols = (int) src.cols();
            for (int r = 0; r < src.rows(); r++) {
                KQuantizers.row(type, x, r * cols, ours, r * type.bytesFor(cols), cols);
            }
            float[] ourDq = Dequantize.all(type, ours, n);
            float[] ggmlDq = Dequantize.all(type, f.tensor("quant." + type.name().toLowerCase(java.util.Locale.ROOT)).data(), n);
            double ourRms = rms(x, ourDq);
            double ggmlRms = rms(x, ggmlDq);
            int sameBytes = 0;
            byte[] a = ours.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            byte[] b = f.tensor("quant." + type.name().toLowerCase(java.util.Locale.ROOT)).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            for (int i = 0; i < a.length; i++) {
                sameBytes += a[i] == b[i] ? 1 : 0;
            }
            System.err.printf("%s RMS error: ours %.6e, ggml %.6e (bytes equal to ggml's: %d of %d)%n",
                    type, ourRms, ggmlRms, sameBytes, a.length);
            assertThat(ourRms).isLessThanOrEqualTo(ggmlRms * (1 + 1e-6));
            assertThat(ourRms).isGreaterThan(0);
            // Same float arithmetic in the same order as ggml's reference: the bytes agree exactly today.
            assertThat(a).isEqualTo(b);
        }
    }

    static double rms(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s / a.length);
    }
}
