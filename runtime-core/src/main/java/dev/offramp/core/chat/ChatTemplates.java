package dev.offramp.core.chat;

import dev.offramp.core.tokenizer.Tokenizer;

import java.util.Optional;

/**
 * Picks a {@link ChatFormat} for a model: from the GGUF {@code tokenizer.chat_template} text by the
 * distinctive substrings llama.cpp's {@code llm_chat_detect_template} looks for, else from the
 * vocabulary's control tokens, else Zephyr-style.
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplates.choose(metadata.get("tokenizer.chat_template"), tokenizer);
 * }</pre>
 */
public final class ChatTemplates {
    private ChatTemplates() {
    }

    /** The format a Jinja chat template (or a llama.cpp format name such as "chatml") stands for, if recognized. */
    public static Optional<ChatFormat> detect(String template) {
        if (template == null || template.isBlank()) {
            return Optional.empty();
        }
        for (ChatFormat f : ChatFormat.values()) {
            if (f.llamaCppName().equals(template.strip())) {
                return Optional.of(f);
            }
        }
        if (template.contains("<|im_start|>")) {
            // Phi-4 (<|im_sep|>) and SmolVLM are ChatML look-alikes we do not render
            return template.contains("<|im_sep|>") || template.contains("<end_of_utterance>")
                    ? Optional.empty() : Optional.of(ChatFormat.CHATML);
        }
        if (template.startsWith("mistral") || template.contains("[INST]")) {
            if (template.contains("[SYSTEM_PROMPT]") || template.contains("' [INST] ' + system_message")
                    || template.contains("[AVAILABLE_TOOLS]")) {
                return Optional.empty(); // Mistral v1/v3/v7: not built in
            }
            if (template.contains("content.strip()")) {
                return Optional.of(ChatFormat.LLAMA2_SYS_STRIP);
            }
            if (template.contains("bos_token + '[INST]")) {
                return Optional.of(ChatFormat.LLAMA2_SYS_BOS);
            }
            return Optional.of(template.contains("<<SYS>>") ? ChatFormat.LLAMA2_SYS : ChatFormat.LLAMA2);
        }
        if (template.contains("<|assistant|>") && template.contains("<|end|>")) {
            return Optional.of(ChatFormat.PHI3);
        }
        if (template.contains("<|user|>") && template.contains("<|endoftext|>") && !template.contains("<|assistant|>")) {
            return Optional.of(ChatFormat.ZEPHYR);
        }
        if (template.contains("<start_of_turn>")) {
            return Optional.of(ChatFormat.GEMMA);
        }
        if (template.contains("<|start_header_id|>") && template.contains("<|end_header_id|>")) {
            return Optional.of(ChatFormat.LLAMA3);
        }
        return Optional.empty();
    }

    /** The format a vocabulary's control tokens suggest, if any. */
    public static Optional<ChatFormat> fromVocabulary(Tokenizer tokenizer) {
        if (tokenizer == null) {
            return Optional.empty();
        }
        boolean header = false;
        boolean imStart = false;
        boolean phiEnd = false;
        boolean phiAssistant = false;
        boolean gemma = false;
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            switch (tokenizer.piece(id)) {
                case "<|start_header_id|>" -> header = true;
                case "<|im_start|>" -> imStart = true;
                case "<|end|>" -> phiEnd = true;
                case "<|assistant|>" -> phiAssistant = true;
                case "<start_of_turn>" -> gemma = true;
                default -> {
                }
            }
        }
        if (header) {
            return Optional.of(ChatFormat.LLAMA3);
        }
        if (imStart) {
            return Optional.of(ChatFormat.CHATML);
        }
        if (phiEnd && phiAssistant) {
            return Optional.of(ChatFormat.PHI3);
        }
        if (gemma) {
            return Optional.of(ChatFormat.GEMMA);
        }
        return Optional.empty();
    }

    /**
     * The template to use: the recognized {@code chatTemplate}, else one suggested by the
     * vocabulary, else {@link ChatFormat#ZEPHYR}.
     */
    public static ChatTemplate choose(String chatTemplate, Tokenizer tokenizer) {
        return detect(chatTemplate).or(() -> fromVocabulary(tokenizer)).orElse(ChatFormat.ZEPHYR);
    }
}
