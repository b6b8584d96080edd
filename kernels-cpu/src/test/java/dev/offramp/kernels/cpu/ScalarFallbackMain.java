package dev.offramp.kernels.cpu;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.tensor.DType;

/** Run by {@link ScalarFallbackTest} in a JVM started without {@code --add-modules jdk.incubator.vector}. */
public final class ScalarFallbackMain {
    private ScalarFallbackMain() {
    }

    public static void main(String[] args) {
        // [[1, 2, 3], [4, 5, 6]] x [1, 1, 2] = [9, 21]
        float[] w = {1, 2, 3, 4, 5, 6};
        for (int i = 0; i < 2; i++) { // two backends: the warning must still appear once
            try (CpuBackend b = new CpuBackend(2)) {
                Weight wt = b.prepare(TestTensors.tensor("w", DType.F16, w, 2, 3));
                Activations x = b.allocate(1, 3), y = b.allocate(1, 2);
                b.write(x, 0, new float[]{1, 1, 2}, 0);
                b.matmul(wt, x, 1, y);
                float[] out = new float[2];
                b.read(y, 0, out, 0);
                System.out.println("RESULT " + out[0] + " " + out[1] + " vectorized=" + b.vectorized()
                        + " desc=" + b.describe());
            }
        }
    }
}
