package dev.offramp.core.tokenizer;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Assembles a {@link Tokenizer} from a vocabulary and whatever the model file states, filling the
 * rest with llama.cpp's defaults so that the result tokenizes as llama.cpp does:
 *
 * <ul>
 *   <li>SPM ({@code llama}): BOS 1, EOS 2, UNK 0; add_bos true, add_eos false; a space is prefixed
 *       to the text; no clean-up of tokenization spaces on decode.</li>
 *   <li>BPE ({@code gpt2}): BOS = EOS = 11 unless stated (llama.cpp's historical default); add_bos
 *       false except for Llama 3 style pre-tokenizers; clean-up per pre-tokenizer type.</li>
 *   <li>Explicit ids outside the vocabulary are ignored (llama.cpp warns and keeps the default).</li>
 *   <li>EOT/EOM are found by their usual spellings when not given; the end-of-generation set is
 *       every such token plus EOS/EOT/EOM, and those tokens are made CONTROL (llama.cpp does the
 *       same, which stops them being matched in plain text).</li>
 *   <li>Phi-3 (model name containing "phi-3"/"phi3"): special tokens swallow following whitespace
 *       (llama.cpp's RSTRIP fix-up).</li>
 * </ul>
 *
 * <pre>{@code
 * Tokenizer t = TokenizerBuilder.bpe(vocab, merges, "llama-bpe").bos(128000).eos(128001).build();
 * }</pre>
 */
public final class TokenizerBuilder {
    private static final System.Logger LOG = System.getLogger(TokenizerBuilder.class.getName());

    private static final List<String> EOT_SPELLINGS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
            "<EOT>", "_<EOT>", "[EOT]", "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "<end_of_utterance>");
    private static final List<String> EOG_SPELLINGS = List.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<\uFF5Cend\u2581of\u2581sentence\uFF5C>");

    private final TokenizerModel model;
    private final Vocabulary vocab;
    private final List<String> merges;
    private final PreTokenizer pre;
    private Integer bos;
    private Integer eos;
    private Integer eot;
    private Integer eom;
    private Integer unk;
    private Integer pad;
    private Integer sep;
    private Boolean addBos;
    private Boolean addEos;
    private Boolean addSpacePrefix;
    private Boolean cleanSpaces;
    private String modelName = "";
    private String source = "tokenizer";

    private TokenizerBuilder(TokenizerModel model, Vocabulary vocab, List<String> merges, PreTokenizer pre) {
        this.model = model;
        this.vocab = Objects.requireNonNull(vocab, "vocab");
        this.merges = merges;
        this.pre = pre;
    }

    /** A SentencePiece-BPE tokenizer (GGUF {@code tokenizer.ggml.model = llama}). */
    public static TokenizerBuilder spm(Vocabulary vocab) {
        return new TokenizerBuilder(TokenizerModel.SPM, vocab, List.of(), null);
    }

    /**
     * A byte-level BPE tokenizer (GGUF {@code tokenizer.ggml.model = gpt2}).
     *
     * @param merges  "left right" strings in rank order
     * @param preName {@code tokenizer.ggml.pre}; null or empty means "default"
     * @throws IllegalArgumentException for a pre-tokenizer this runtime does not implement
     */
    public static TokenizerBuilder bpe(Vocabulary vocab, List<String> merges, String preName) {
        PreTokenizer p = PreTokenizer.forName(preName).orElseThrow(() -> new IllegalArgumentException(
                "unsupported pre-tokenizer type '" + preName + "' (supported: " + supportedPreNames() + ")"));
        if (preName == null || preName.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "missing pre-tokenizer type, using 'default': generation quality may suffer");
        }
        return new TokenizerBuilder(TokenizerModel.BPE, vocab, List.copyOf(merges), p);
    }

    /** All {@code tokenizer.ggml.pre} names accepted by {@link #bpe}. */
    public static List<String> supportedPreNames() {
        return java.util.Arrays.stream(PreTokenizer.values()).flatMap(p -> p.names().stream()).toList();
    }

    public TokenizerBuilder bos(int id) {
        this.bos = id;
        return this;
    }

    public TokenizerBuilder eos(int id) {
        this.eos = id;
        return this;
    }

    public TokenizerBuilder eot(int id) {
        this.eot = id;
        return this;
    }

    public TokenizerBuilder eom(int id) {
        this.eom = id;
        return this;
    }

    public TokenizerBuilder unk(int id) {
        this.unk = id;
        return this;
    }

    public TokenizerBuilder pad(int id) {
        this.pad = id;
        return this;
    }

    public TokenizerBuilder sep(int id) {
        this.sep = id;
        return this;
    }

    public TokenizerBuilder addBos(boolean v) {
        this.addBos = v;
        return this;
    }

    public TokenizerBuilder addEos(boolean v) {
        this.addEos = v;
        return this;
    }

    /** SentencePiece's add_dummy_prefix ({@code tokenizer.ggml.add_space_prefix}). */
    public TokenizerBuilder addSpacePrefix(boolean v) {
        this.addSpacePrefix = v;
        return this;
    }

    /** HF's clean_up_tokenization_spaces (decode only). */
    public TokenizerBuilder cleanSpaces(boolean v) {
        this.cleanSpaces = v;
        return this;
    }

    /** {@code general.name}; llama.cpp keys a Phi-3 fix-up on it. */
    public TokenizerBuilder modelName(String name) {
        this.modelName = name == null ? "" : name;
        return this;
    }

    /** The file the vocabulary came from, for messages. */
    public TokenizerBuilder source(String name) {
        this.source = name == null ? "tokenizer" : name;
        return this;
    }

    private int pick(String what, int dflt, Integer given) {
        int id = dflt;
        if (id >= vocab.size()) {
            id = -1;
        }
        if (given != null) {
            if (given >= 0 && given < vocab.size()) {
                id = given;
            } else if (given >= 0 || given < -1) {
                LOG.log(System.Logger.Level.WARNING, source + ": " + what + " token id "
                        + (given >= 0 ? String.valueOf(given) : "(out of range)")
                        + " is outside the vocabulary of " + vocab.size() + "; using " + id);
            } else {
                id = -1;
            }
        }
        return id;
    }

    /**
     * @throws IllegalArgumentException when add_bos/add_eos is set but the token is missing (llama.cpp refuses such a file)
     */
    public Tokenizer build() {
        boolean spm = model == TokenizerModel.SPM;
        int dBos = spm ? 1 : 11;
        int dEos = spm ? 2 : 11;
        int dUnk = spm ? 0 : -1;
        if (pre == PreTokenizer.CHATGLM4) {
            dBos = -1;
        }
        SpecialTokens st = new SpecialTokens(
                pick("BOS", dBos, bos), pick("EOS", dEos, eos), pick("EOT", -1, eot), pick("EOM", -1, eom),
                pick("UNK", dUnk, unk), pick("PAD", -1, pad), pick("SEP", -1, sep));
        boolean aBos = addBos != null ? addBos : spm || pre.addBosDefault();
        boolean aEos = addEos != null && addEos;
        boolean aSpace = addSpacePrefix != null ? addSpacePrefix : spm;
        boolean clean = cleanSpaces != null ? cleanSpaces : !spm && pre.cleanSpaces();
        if (aBos && st.bos() < 0) {
            throw new IllegalArgumentException(source + ": add_bos_token is true, but bos_token_id is not set");
        }
        if (aEos && st.eos() < 0) {
            throw new IllegalArgumentException(source + ": add_eos_token is true, but eos_token_id is not set");
        }

        int n = vocab.size();
        int[] attrs = new int[n];
        for (int id = 0; id < n; id++) {
            attrs[id] = switch (vocab.type(id)) {
                case NORMAL -> VocabTokenizer.ATTR_NORMAL;
                case UNKNOWN -> VocabTokenizer.ATTR_UNKNOWN;
                case CONTROL -> VocabTokenizer.ATTR_CONTROL;
                case USER_DEFINED -> VocabTokenizer.ATTR_USER_DEFINED;
                case UNUSED -> VocabTokenizer.ATTR_UNUSED;
                case BYTE -> VocabTokenizer.ATTR_BYTE;
                case UNDEFINED -> 0;
            };
        }
        if (st.eot() < 0) {
            for (String s : EOT_SPELLINGS) {
                int id = vocab.id(s);
                if (id >= 0) {
                    st = st.withEot(id);
                    attrs[id] |= VocabTokenizer.ATTR_CONTROL;
                    break;
                }
            }
        }
        if (st.eom() < 0) {
            int id = vocab.id("<|eom_id|>");
            if (id >= 0) {
                st = st.withEom(id);
                attrs[id] |= VocabTokenizer.ATTR_CONTROL;
            }
        }
        boolean[] eog = new boolean[n];
        for (String s : EOG_SPELLINGS) {
            int id = vocab.id(s);
            if (id >= 0) {
                eog[id] = true;
                attrs[id] |= VocabTokenizer.ATTR_CONTROL;
            }
        }
        for (int id : new int[]{st.eos(), st.eot(), st.eom()}) {
            if (id >= 0) {
                eog[id] = true;
            }
        }
        String name = modelName.toLowerCase(Locale.ROOT);
        if (name.contains("phi-3") || name.contains("phi3")) {
            for (int id = 0; id < n; id++) {
                if ((attrs[id] & (VocabTokenizer.ATTR_CONTROL | VocabTokenizer.ATTR_USER_DEFINED | VocabTokenizer.ATTR_UNKNOWN)) != 0) {
                    attrs[id] |= VocabTokenizer.ATTR_RSTRIP;
                }
            }
            setFlag(attrs, "</s>", VocabTokenizer.ATTR_RSTRIP, true);
            for (String s : List.of("<unk>", "<s>", "<|endoftext|>")) {
                setFlag(attrs, s, VocabTokenizer.ATTR_RSTRIP, false);
            }
        }
        VocabTokenizer t = new VocabTokenizer(model, vocab, attrs, st, aBos, aEos, aSpace, clean, eog, merges, pre,
                pre != null && pre.ignoreMerges());
        LOG.log(System.Logger.Level.DEBUG, () -> source + ": " + t);
        return t;
    }

    private void setFlag(int[] attrs, String piece, int flag, boolean on) {
        int id = vocab.id(piece);
        if (id >= 0) {
            attrs[id] = on ? attrs[id] | flag : attrs[id] & ~flag;
        }
    }
}
