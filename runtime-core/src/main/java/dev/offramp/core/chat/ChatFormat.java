package dev.offramp.core.chat;

import java.util.List;

/**
 * The built-in chat formats, rendering as llama.cpp's {@code llm_chat_apply_template} does for the
 * same format (so a prompt tokenizes identically).
 */
public enum ChatFormat implements ChatTemplate {
    /** {@code <|im_start|>role\ncontent<|im_end|>\n} (Qwen, many fine-tunes). */
    CHATML("chatml") {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            for (ChatMessage m : messages) {
                sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
            }
            if (addGenerationPrompt) {
                sb.append("<|im_start|>assistant\n");
            }
            return sb.toString();
        }
    },
    /** Llama 2 chat without system-prompt support: a system message is put in front of the first user turn. */
    LLAMA2("llama2"),
    /** Llama 2 chat: {@code [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST]answer</s>}. */
    LLAMA2_SYS("llama2-sys"),
    /** As LLAMA2_SYS with {@code <s>} before each later {@code [INST]}. */
    LLAMA2_SYS_BOS("llama2-sys-bos"),
    /** As LLAMA2_SYS with every message trimmed. */
    LLAMA2_SYS_STRIP("llama2-sys-strip"),
    /** Llama 3: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>}. */
    LLAMA3("llama3") {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            for (ChatMessage m : messages) {
                sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n")
                        .append(trim(m.content())).append("<|eot_id|>");
            }
            if (addGenerationPrompt) {
                sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            return sb.toString();
        }
    },
    /** Phi-3: {@code <|role|>\ncontent<|end|>\n}. */
    PHI3("phi3") {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            for (ChatMessage m : messages) {
                sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append("<|end|>\n");
            }
            if (addGenerationPrompt) {
                sb.append("<|assistant|>\n");
            }
            return sb.toString();
        }
    },
    /** Zephyr: {@code <|role|>\ncontent<|endoftext|>\n}; also the fallback for unknown templates. */
    ZEPHYR("zephyr") {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            for (ChatMessage m : messages) {
                sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append("<|endoftext|>\n");
            }
            if (addGenerationPrompt) {
                sb.append("<|assistant|>\n");
            }
            return sb.toString();
        }
    },
    /** Gemma: {@code <start_of_turn>user\ncontent<end_of_turn>\n}, "assistant" spelled "model", system folded into the first user turn. */
    GEMMA("gemma") {
        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            StringBuilder sb = new StringBuilder();
            String pendingSystem = "";
            for (ChatMessage m : messages) {
                String role = m.role();
                if (role.equals("system")) {
                    pendingSystem = m.content() + "\n\n";
                    continue;
                }
                if (role.equals("assistant")) {
                    role = "model";
                }
                sb.append("<start_of_turn>").append(role).append('\n');
                if (!pendingSystem.isEmpty() && !role.equals("model")) {
                    sb.append(pendingSystem);
                    pendingSystem = "";
                }
                sb.append(trim(m.content())).append("<end_of_turn>\n");
            }
            if (addGenerationPrompt) {
                sb.append("<start_of_turn>model\n");
            }
            return sb.toString();
        }
    };

    private final String llamaCppName;

    ChatFormat(String llamaCppName) {
        this.llamaCppName = llamaCppName;
    }

    /** llama.cpp's name for the format. */
    public String llamaCppName() {
        return llamaCppName;
    }

    // the four Llama 2 variants share one renderer
    @Override
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        boolean systemSupported = this != LLAMA2;
        boolean bosInHistory = this == LLAMA2_SYS_BOS;
        boolean strip = this == LLAMA2_SYS_STRIP;
        StringBuilder sb = new StringBuilder("[INST] ");
        boolean insideTurn = true; // the caller's BOS opens the first turn
        for (ChatMessage m : messages) {
            String content = strip ? trim(m.content()) : m.content();
            if (!insideTurn) {
                insideTurn = true;
                sb.append(bosInHistory ? "<s>[INST] " : "[INST] ");
            }
            switch (m.role()) {
                case "system" -> {
                    if (systemSupported) {
                        sb.append("<<SYS>>\n").append(content).append("\n<</SYS>>\n\n");
                    } else {
                        sb.append(content).append('\n');
                    }
                }
                case "user" -> sb.append(content).append(" [/INST]");
                default -> {
                    sb.append(content).append("</s>");
                    insideTurn = false;
                }
            }
        }
        // Llama 2 needs no generation prompt: the model answers after "[/INST]"
        return sb.toString();
    }

    /** Trims C-locale whitespace at both ends, as llama.cpp's {@code trim} does. */
    static String trim(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isCSpace(s.charAt(a))) {
            a++;
        }
        while (b > a && isCSpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    private static boolean isCSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }
}
