package dev.offramp.loader.gguf;

import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** What our writer emits loads in llama.cpp and generates exactly what the original does. */
class GgufLlamaCppTest {

    @TempDir
    Path tmp;

    @Test
    void rewrittenStories260KGeneratesTheSameGreedyText() throws Exception {
        Path src = Fixtures.model("stories260K.gguf");
        Path out = tmp.resolve("rewritten.gguf");
        try (GgufFile g = GgufFile.open(src)) {
            // a layout the original does not have: other tensor order, wider alignment, extra key
            List<String> names = new ArrayList<>(g.tensors().keySet());
            Collections.reverse(names);
            GgufWriter reordered = GgufWriter.create().version(g.version());
            g.metadata().entries().forEach(reordered::put);
            reordered.alignment(64).put("offramp.test.note", GgufValue.string("rewritten"));
            for (String n : names) {
                reordered.addTensor(g.tensor(n));
            }
            reordered.write(out);
        }
        assertThat(Files.mismatch(src, out)).isNotEqualTo(-1L);
        String original = LlamaCppPeer.greedy(src, "Once upon a time", 20);
        String rewritten = LlamaCppPeer.greedy(out, "Once upon a time", 20);
        assertThat(original).startsWith(", there was a little girl named Lily.");
        assertThat(rewritten).isEqualTo(original);
    }
}
