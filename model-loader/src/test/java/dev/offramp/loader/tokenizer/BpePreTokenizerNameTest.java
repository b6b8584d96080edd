package dev.offramp.loader.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.tokenizer.PreTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Both directions of the tokenizer.json rules <-> tokenizer.ggml.pre mapping agree. */
class BpePreTokenizerNameTest {

    static final ObjectMapper JSON = new ObjectMapper();

    /** The rules written for a name (and the clean-up flag beside them) are read back as the canonical name. */
    @ParameterizedTest
    @CsvSource({"llama-bpe,llama-bpe", "llama3,llama-bpe", "smaug-bpe,llama-bpe", "qwen2,qwen2", "megrez,qwen2",
            "gpt-2,gpt-2", "phi-2,gpt-2", "starcoder,starcoder", "refact,starcoder", "smollm,smollm", "command-r,smollm"})
    void writtenRulesReadBackAsTheSameRuntimeRules(String gguf, String canonical) {
        BpePreTokenizerName.Rules r = BpePreTokenizerName.rulesFor("x.gguf", gguf);
        assertThat(r.name()).isEqualTo(canonical);
        ObjectNode root = JSON.createObjectNode();
        root.set("pre_tokenizer", r.preTokenizer());
        ObjectNode cfg = JSON.createObjectNode().put("clean_up_tokenization_spaces", r.cleanUpTokenizationSpaces());
        String back = BpePreTokenizerName.of("tokenizer.json", root, cfg);
        assertThat(back).isEqualTo(canonical);
        PreTokenizer type = PreTokenizer.forName(gguf).orElseThrow();
        assertThat(PreTokenizer.forName(back)).contains(type);
        assertThat(r.cleanUpTokenizationSpaces()).isEqualTo(type.cleanSpaces());
        assertThat(r.ignoreMerges()).isEqualTo(type.ignoreMerges());
        // a copy each time: a caller editing it cannot change the table
        r.preTokenizer().put("type", "edited");
        assertThat(BpePreTokenizerName.rulesFor("x.gguf", gguf).preTokenizer().path("type").asText()).isNotEqualTo("edited");
    }

    @ParameterizedTest
    @ValueSource(strings = {"default", "", "deepseek-llm", "deepseek-coder", "stablelm2", "chatglm-bpe", "qwen35", "no-such"})
    void namesWithoutTokenizerJsonRulesAreRefusedNamingTheField(String name) {
        assertThatThrownBy(() -> BpePreTokenizerName.rulesFor("x.gguf", name))
                .isInstanceOf(TokenizerFormatException.class)
                .hasMessageStartingWith("x.gguf: tokenizer.ggml.pre: ")
                .hasMessageContaining("supported: llama-bpe, qwen2, gpt-2, starcoder, smollm");
    }

    @Test
    void anAbsentNameIsRefused() {
        assertThatThrownBy(() -> BpePreTokenizerName.rulesFor("x.gguf", null))
                .isInstanceOf(TokenizerFormatException.class).hasMessageContaining("tokenizer.ggml.pre: missing");
    }
}
