package dev.offramp.loader.hf;

import dev.offramp.core.model.ExitPlan;
import dev.offramp.core.model.ForwardState;
import dev.offramp.core.model.LlamaModel;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.kernels.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The HF folder of stories260K, loaded as NEOX without permuting anything, with the GGUF's
 * vocabulary as tokenizer override, reproduces the shared greedy golden (llama2.c's run.c output).
 */
class HfEndToEndTest {

    @Test
    void stories260KHfGreedyMatchesGolden() throws Exception {
        int[] golden = Arrays.stream(Files.readString(
                        Fixtures.model("golden/stories260K_f32_greedy_200_from_bos.ids.txt")).trim().split("\\s+"))
                .mapToInt(Integer::parseInt).toArray();
        String goldenText = Files.readString(Fixtures.model("golden/stories260K_f32_greedy_200_from_bos.txt"));
        try (ModelSource src = new HfModelFormat().open(Fixtures.model("derived/stories260K-hf"),
                Fixtures.model("stories260K.gguf"));
             CpuBackend backend = new CpuBackend(1)) {
            Tokenizer tok = src.tokenizer().orElseThrow();
            assertThat(tok.vocabSize()).isEqualTo(512);
            LlamaModel model = LlamaModel.bind(src.config(), src.tensors(), backend);
            int vocab = src.config().vocabSize();
            int[] out = new int[golden.length];
            float[] logits = new float[vocab];
            try (ForwardState state = model.newState(256, DType.F32, 1)) {
                int token = tok.bos();
                for (int pos = 0; pos < golden.length; pos++) {
                    model.forward(state, new int[]{token}, new int[]{pos}, 1, ExitPlan.full(), new int[]{0}, logits);
                    int best = 0;
                    for (int i = 1; i < vocab; i++) {
                        if (logits[i] > logits[best]) {
                            best = i;
                        }
                    }
                    out[pos] = token = best;
                }
            }
            assertThat(out).containsExactly(golden);
            assertThat(goldenText).startsWith(tok.decode(Arrays.copyOf(out, 40), false).strip());
        }
    }
}
