package dev.offramp.core.chat;

import java.util.List;

/**
 * Renders a conversation into the prompt text a chat model was trained on. The text contains the
 * family's control tokens spelled out ({@code <|im_start|>}, {@code [INST]}, ...) but not the BOS
 * token: encode it with {@code tokenizer.encode(text, true, true)} (add BOS as the vocabulary says,
 * parse control tokens).
 *
 * <pre>{@code
 * ChatTemplate t = ChatTemplates.choose(metadataTemplate, tokenizer);
 * String prompt = t.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi")), true);
 * int[] ids = tokenizer.encode(prompt, true, true);
 * }</pre>
 */
public sealed interface ChatTemplate permits ChatFormat {

    /** The llama.cpp name of the format ("chatml", "llama3", ...). */
    String name();

    /**
     * @param messages            the conversation so far
     * @param addGenerationPrompt append the opening of an assistant turn, so the model answers next
     */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);
}
