package dev.offramp.loader.hf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class QkRowPermutationTest {

    @Test
    void smallHeadByHand() {
        // One head of 8 rows: HF pairs (0,4),(1,5),(2,6),(3,7); GGUF stores those pairs adjacent.
        assertThat(QkRowPermutation.hfToGgufOrder(8, 1)).containsExactly(0, 4, 1, 5, 2, 6, 3, 7);
        assertThat(QkRowPermutation.ggufToHfOrder(8, 1)).containsExactly(0, 2, 4, 6, 1, 3, 5, 7);
        assertThat(QkRowPermutation.hfToGgufOrder(8, 2)).containsExactly(0, 2, 1, 3, 4, 6, 5, 7);
    }

    @Test
    void directionsAreInverse() {
        for (int heads : new int[]{1, 2, 3, 8, 32}) {
            for (int d : new int[]{2, 4, 8, 64, 128}) {
                int[] fwd = QkRowPermutation.hfToGgufOrder(heads * d, heads);
                int[] back = QkRowPermutation.ggufToHfOrder(heads * d, heads);
                for (int i = 0; i < fwd.length; i++) {
                    assertThat(fwd[back[i]]).isEqualTo(i);
                    assertThat(back[fwd[i]]).isEqualTo(i);
                }
            }
        }
    }

    @Test
    void permutesWholeQuantizedRowsAndBiases() {
        byte[] bytes = new byte[4 * 34];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) (i / 34);
        }
        Tensor q = new Tensor("q", DType.Q8_0, new long[]{4, 32}, MemorySegment.ofArray(bytes));
        Tensor p = QkRowPermutation.hfToGguf(q, 1, Arena.ofAuto());
        for (int r = 0; r < 4; r++) {
            assertThat(p.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, r * 34L + 33))
                    .isEqualTo((byte) new int[]{0, 2, 1, 3}[r]);
        }
        Tensor bias = new Tensor("b", DType.F32, new long[]{4},
                MemorySegment.ofArray(new float[]{10, 11, 12, 13}));
        Tensor pb = QkRowPermutation.hfToGguf(bias, 1, Arena.ofAuto());
        assertThat(pb.data().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT)).containsExactly(10, 12, 11, 13);
    }

    @Test
    void stories260KHfEqualsGgufAfterPermutation() throws IOException {
        check(Fixtures.model("derived/stories260K-hf/model.safetensors"), Fixtures.model("stories260K.gguf"), 8, 4);
    }

    @Test
    void storiesEe12HfEqualsGgufAfterPermutationWithGqa() throws IOException {
        check(Fixtures.model("trained/stories-ee12-hf/model.safetensors"),
                Fixtures.model("trained/stories-ee12-F32.gguf"), 8, 4);
    }

    private static void check(Path hfFile, Path ggufFile, int heads, int kvHeads) throws IOException {
        try (SafetensorsFile hf = SafetensorsFile.open(hfFile); GgufFile gguf = GgufFile.open(ggufFile);
             Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> g = gguf.tensors();
            // stories260K.gguf carries output.weight although the HF copy is tied: it must equal the embedding.
            for (String extra : g.keySet()) {
                if (HfTensorNames.toHf(extra).filter(hf.tensors()::containsKey).isEmpty()) {
                    assertThat(extra).isEqualTo("output.weight");
                    assertThat(g.get(extra).data().mismatch(hf.tensors().get("model.embed_tokens.weight").data()))
                            .isEqualTo(-1L);
                }
            }
            assertThat(hf.tensors().size()).isGreaterThanOrEqualTo(g.size() - 1);
            int permuted = 0;
            for (Tensor h : hf.tensors().values()) {
                String name = HfTensorNames.toGguf(h.name()).orElseThrow();
                Tensor ref = g.get(name);
                assertThat(ref).as(name).isNotNull();
                assertThat(ref.type()).isEqualTo(DType.F32);
                assertThat(h.shape()).as(name).isEqualTo(ref.shape());
                int n = name.contains(".attn_q.") ? heads : name.contains(".attn_k.") ? kvHeads : 0;
                if (n == 0) {
                    assertThat(h.data().mismatch(ref.data())).as(name).isEqualTo(-1L);
                    continue;
                }
                // The permutation matters: unpermuted rows differ.
                assertThat(h.data().mismatch(ref.data())).as(name).isNotEqualTo(-1L);
                Tensor toGguf = QkRowPermutation.hfToGguf(h, n, arena);
                assertThat(toGguf.data().mismatch(ref.data())).as(name + " HF->GGUF").isEqualTo(-1L);
                Tensor back = QkRowPermutation.ggufToHf(ref, n, arena);
                assertThat(back.data().mismatch(h.data())).as(name + " GGUF->HF").isEqualTo(-1L);
                permuted++;
            }
            assertThat(permuted).isEqualTo(2 * gguf.metadata().getInt("llama.block_count"));
        }
    }
}
