package dev.offramp.loader.quantize;

import dev.offramp.core.Models;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufModelConfigs;
import dev.offramp.loader.tokenizer.GgufTokenizers;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

/**
 * The sensitivity measure behind {@code --mixed} on stories260K (seconds): zero for the reference
 * itself, restarting at a tensor's layer from saved hidden states gives the same KL as a full forward,
 * and coarser types drift further.
 */
class LogitDivergenceTest {

    @Test
    void restartFromSavedLayerOutputsEqualsAFullForward() throws Exception {
        try (GgufFile src = GgufFile.open(Fixtures.model("stories260K.gguf"));
             Backend backend = Models.backend(null, 0);
             Arena arena = Arena.ofShared()) { // shared: the backend's workers read the weights
            ModelConfig config = GgufModelConfigs.from(src);
            Tokenizer tok = GgufTokenizers.find(src).orElseThrow();
            int[] ids = tok.encode(Files.readString(Fixtures.model("trained/stories-ee12-valid.txt")), true, false);
            try (LogitDivergence d = LogitDivergence.reference(config, src.tensors(), backend, ids, tok.bos(), 64, 2)) {
                assertThat(d.positionCount()).isEqualTo(128);
                assertThat(d.of(Map.of())).isCloseTo(0, offset(1e-9));

                Tensor v = src.tensor("blk.3.attn_v.weight");
                double q4 = d.of(Map.of(v.name(), MixedPrecision.encode(v, DType.Q4_0, arena)));
                // token_embd (unchanged) forces the forward to start at the embeddings
                double full = d.of(Map.of(v.name(), MixedPrecision.encode(v, DType.Q4_0, arena),
                        "token_embd.weight", src.tensor("token_embd.weight")));
                assertThat(q4).isGreaterThan(1e-6).isCloseTo(full, offset(1e-6 * full + 1e-12));
                double q8 = d.of(Map.of(v.name(), MixedPrecision.encode(v, DType.Q8_0, arena)));
                assertThat(q8).isGreaterThan(0).isLessThan(q4 / 10);

                // the first layer and the head
                Tensor q = src.tensor("blk.0.attn_q.weight");
                assertThat(d.of(Map.of(q.name(), MixedPrecision.encode(q, DType.Q4_0, arena)))).isGreaterThan(0);
                Tensor e = src.tensor("token_embd.weight");
                assertThat(d.of(Map.of(e.name(), MixedPrecision.encode(e, DType.Q4_0, arena)))).isGreaterThan(0);
            }
            assertThatThrownBy(() -> LogitDivergence.reference(config, src.tensors(), backend, new int[10], 1, 64, 1))
                    .hasMessageContaining("10 tokens");
        }
    }
}
