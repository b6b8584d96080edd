package dev.offramp.core.chat;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Renderings are llama.cpp's expected outputs for the same conversation (its test-chat-template). */
class ChatTemplatesTest {
    static final List<ChatMessage> CONVERSATION = List.of(
            ChatMessage.system("You are a helpful assistant"),
            ChatMessage.user("Hello"),
            ChatMessage.assistant("Hi there"),
            ChatMessage.user("Who are you"),
            ChatMessage.assistant("   I am an assistant   "),
            ChatMessage.user("Another question"));

    @Test
    void chatml() {
        assertThat(ChatFormat.CHATML.render(CONVERSATION, true)).isEqualTo(
                "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                        + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                        + "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
                        + "<|im_start|>assistant\n");
    }

    @Test
    void llama2WithSystem() {
        assertThat(ChatFormat.LLAMA2_SYS.render(CONVERSATION, true)).isEqualTo(
                "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]"
                        + "   I am an assistant   </s>[INST] Another question [/INST]");
        assertThat(ChatFormat.LLAMA2_SYS_BOS.render(CONVERSATION, true)).isEqualTo(
                "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s><s>[INST] Who are you [/INST]"
                        + "   I am an assistant   </s><s>[INST] Another question [/INST]");
        assertThat(ChatFormat.LLAMA2_SYS_STRIP.render(CONVERSATION, true)).isEqualTo(
                "[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST]Hi there</s>[INST] Who are you [/INST]"
                        + "I am an assistant</s>[INST] Another question [/INST]");
        assertThat(ChatFormat.LLAMA2.render(CONVERSATION, true)).startsWith("[INST] You are a helpful assistant\nHello [/INST]");
    }

    @Test
    void llama3() {
        assertThat(ChatFormat.LLAMA3.render(CONVERSATION, true)).isEqualTo(
                "<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
                        + "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(ChatFormat.LLAMA3.render(List.of(ChatMessage.user("x")), false))
                .isEqualTo("<|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>");
    }

    @Test
    void phi3AndZephyr() {
        assertThat(ChatFormat.PHI3.render(CONVERSATION, true)).isEqualTo(
                "<|system|>\nYou are a helpful assistant<|end|>\n<|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n"
                        + "<|user|>\nWho are you<|end|>\n<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n"
                        + "<|assistant|>\n");
        assertThat(ChatFormat.ZEPHYR.render(CONVERSATION, true)).isEqualTo(
                "<|system|>\nYou are a helpful assistant<|endoftext|>\n<|user|>\nHello<|endoftext|>\n<|assistant|>\nHi there<|endoftext|>\n"
                        + "<|user|>\nWho are you<|endoftext|>\n<|assistant|>\n   I am an assistant   <|endoftext|>\n"
                        + "<|user|>\nAnother question<|endoftext|>\n<|assistant|>\n");
    }

    @Test
    void detection() {
        assertThat(ChatTemplates.detect("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"))
                .contains(ChatFormat.CHATML);
        assertThat(ChatTemplates.detect("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') %}{{'<|user|>' + '\\n' + message['content'] + '<|end|>' + '\\n' + '<|assistant|>' + '\\n'}}{% endif %}{% endfor %}"))
                .contains(ChatFormat.PHI3);
        assertThat(ChatTemplates.detect("{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% endfor %}"))
                .contains(ChatFormat.LLAMA3);
        assertThat(ChatTemplates.detect("{% if messages[0]['role'] == 'system' %}{% set system_message = '<<SYS>>\\n' + messages[0]['content'] | trim + '\\n<</SYS>>\\n\\n' %}{% endif %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"))
                .contains(ChatFormat.LLAMA2_SYS_STRIP);
        assertThat(ChatTemplates.detect("[INST] <<SYS>> x")).contains(ChatFormat.LLAMA2_SYS);
        assertThat(ChatTemplates.detect("{{ '<|user|>\\n' + message['content'] + '<|endoftext|>' }}")).contains(ChatFormat.ZEPHYR);
        assertThat(ChatTemplates.detect("<start_of_turn>user")).contains(ChatFormat.GEMMA);
        assertThat(ChatTemplates.detect("chatml")).contains(ChatFormat.CHATML);
        assertThat(ChatTemplates.detect("something else entirely")).isEmpty();
        assertThat(ChatTemplates.detect(null)).isEmpty();
        assertThat(ChatTemplates.choose(null, null)).isEqualTo(ChatFormat.ZEPHYR);
    }
}
