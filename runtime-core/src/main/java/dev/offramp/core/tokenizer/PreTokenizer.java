package dev.offramp.core.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The byte-level BPE pre-tokenizers (word-splitting rules) named by GGUF's {@code tokenizer.ggml.pre},
 * with llama.cpp's per-type defaults. The regex lists are the split rules of the original HF
 * tokenizers as llama.cpp spells them (applied one after another, see {@link TextSplitter}).
 *
 * <pre>{@code
 * PreTokenizer p = PreTokenizer.forName("llama-bpe").orElseThrow();   // LLAMA3
 * }</pre>
 */
public enum PreTokenizer {
    /** Used when {@code tokenizer.ggml.pre} is missing or "default". */
    DEFAULT(List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|]+",
            TextSplitter.GPT2,
            "\\p{N}+",
            "[0-9][0-9][0-9]"), true, false, false,
            "default"),
    /** Llama 3 (and names llama.cpp treats the same). */
    LLAMA3(List.of(TextSplitter.LLAMA3), true, true, true,
            "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx", "smaug-bpe"),
    DEEPSEEK_LLM(List.of(
            "[\r\n]",
            "\\s?[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]+",
            "\\s?[!-/:-~\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            "\\s+$",
            "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}+"), false, false, false,
            "deepseek-llm"),
    DEEPSEEK_CODER(List.of(
            "[\r\n]",
            "\\s?\\p{L}+",
            "\\s?\\p{P}+",
            "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}"), false, false, false,
            "deepseek-coder"),
    FALCON(List.of(
            "[\\p{P}\\$\\+<=>\\^~\\|`]+",
            TextSplitter.GPT2,
            "[0-9][0-9][0-9]"), true, false, false,
            "falcon"),
    STARCODER(List.of("\\p{N}", TextSplitter.GPT2), true, false, false,
            "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2"),
    /** StarCoder rules with clean-up of tokenization spaces switched off. */
    STARCODER_NO_CLEAN(List.of("\\p{N}", TextSplitter.GPT2), false, false, false,
            "command-r", "smollm"),
    GPT2(List.of(TextSplitter.GPT2), true, false, false,
            "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "mpt", "olmo", "jais", "exaone4", "jina-v1-en", "jina-v2-code", "roberta-bpe", "modern-bert"),
    QWEN2(List.of(TextSplitter.QWEN2),
            false, false, false,
            "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"),
    /** Qwen2 rules with the default clean-up (stablelm2 keeps clean_spaces on in llama.cpp). */
    STABLELM2(List.of(TextSplitter.QWEN2), true, false, false, "stablelm2"),
    QWEN35(List.of(
            "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
            false, false, false,
            "qwen35"),
    CHATGLM4(List.of(TextSplitter.LLAMA3), true, false, false, "glm4", "chatglm-bpe"),
    PORO(List.of(" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"), false, false, false, "poro-chat"),
    BLOOM(List.of(" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+"), true, false, false, "bloom", "gpt3-finnish"),
    VIKING(List.of(" ?[^(\\s|.,!?\\x{2026}\\x{3002}\\x{FF0C}\\x{3001}\\x{964}\\x{6D4}\\x{60C})]+", "\\p{N}"), false, false, false, "viking");

    final List<String> regexes;
    private final boolean cleanSpaces;
    private final boolean ignoreMerges;
    private final boolean addBos;
    private final List<String> names;

    PreTokenizer(List<String> regexes, boolean cleanSpaces, boolean ignoreMerges, boolean addBos, String... names) {
        this.regexes = regexes;
        this.cleanSpaces = cleanSpaces;
        this.ignoreMerges = ignoreMerges;
        this.addBos = addBos;
        this.names = List.of(names);
    }

    /** The type for a {@code tokenizer.ggml.pre} value; empty for names not supported here. */
    public static Optional<PreTokenizer> forName(String name) {
        if (name == null || name.isEmpty()) {
            return Optional.of(DEFAULT);
        }
        String n = name.toLowerCase(Locale.ROOT);
        for (PreTokenizer p : values()) {
            if (p.names.contains(n)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** The split regexes, in llama.cpp's syntax. */
    public List<String> regexes() {
        return regexes;
    }

    /** llama.cpp's clean_up_tokenization_spaces default for this type (decode only). */
    public boolean cleanSpaces() {
        return cleanSpaces;
    }

    /** Whether a word that is already a whole token skips BPE merging (Llama 3). */
    public boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** llama.cpp's add_bos default when the file does not say. */
    public boolean addBosDefault() {
        return addBos;
    }

    /** The {@code tokenizer.ggml.pre} names mapped to this type. */
    public List<String> names() {
        return names;
    }
}
