package dev.offramp.core.tokenizer;

/** The two vocabulary algorithms supported: GGUF {@code tokenizer.ggml.model} "llama" and "gpt2". */
public enum TokenizerModel {
    /** SentencePiece BPE with scores and byte fallback (llama.cpp vocab type SPM, GGUF "llama"). */
    SPM,
    /** Byte-level BPE with ranked merges and a regex pre-tokenizer (llama.cpp vocab type BPE, GGUF "gpt2"). */
    BPE
}
