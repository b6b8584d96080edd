package dev.offramp.loader.synth;

/**
 * Which real tokenizer a synthetic model borrows, so llama.cpp (and our own tokenizer) can load it.
 * The file itself is supplied by the caller; the name here is the fixture it is usually taken from.
 */
public enum SynthVocab {
    /** Llama 2 SentencePiece, 32,000 tokens ({@code ggml-vocab-llama-spm.gguf}). */
    LLAMA2_SPM("ggml-vocab-llama-spm.gguf", 32000),
    /** Llama 3 BPE, 128,000 + 256 special tokens ({@code tiny-llama3-vocab.gguf}). */
    LLAMA3_BPE("tiny-llama3-vocab.gguf", 128256),
    /** No tokenizer metadata (tests only; llama.cpp refuses such a file). */
    NONE("", 0);

    private final String usualFile;
    private final int tokens;

    SynthVocab(String usualFile, int tokens) {
        this.usualFile = usualFile;
        this.tokens = tokens;
    }

    /** File name of the GGUF this vocabulary is usually copied from. */
    public String usualFile() {
        return usualFile;
    }

    /** Number of tokens the vocabulary has. */
    public int tokens() {
        return tokens;
    }
}
