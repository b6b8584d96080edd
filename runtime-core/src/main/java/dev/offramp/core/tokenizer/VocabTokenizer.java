package dev.offramp.core.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The {@link Tokenizer} for SentencePiece-BPE and byte-level BPE vocabularies, reproducing
 * llama.cpp's {@code llama_tokenize} / {@code llama_detokenize} token for token. Built by
 * {@link TokenizerBuilder}, which applies llama.cpp's per-type defaults. Immutable and thread-safe.
 *
 * <p>Encoding: special tokens are cut out of the text first (longest first; USER_DEFINED always,
 * CONTROL and UNKNOWN only with {@code parseSpecial}), then each remaining text fragment is encoded
 * on its own: SPM prefixes a space to a fragment at the start or after a special token (when
 * add_space_prefix) and spells spaces as {@code ▁}; BPE splits the fragment into words with the
 * pre-tokenizer regexes and merges each word. Text is handled as UTF-8 bytes; invalid UTF-8 never
 * throws (BPE sees it as U+FFFD, SPM falls back to byte tokens).
 */
final class VocabTokenizer implements Tokenizer {
    // llama.cpp token attributes (bit flags): a token can gain CONTROL on top of its type
    static final int ATTR_UNKNOWN = 1;
    static final int ATTR_UNUSED = 2;
    static final int ATTR_NORMAL = 4;
    static final int ATTR_CONTROL = 8;
    static final int ATTR_USER_DEFINED = 16;
    static final int ATTR_BYTE = 32;
    static final int ATTR_LSTRIP = 128;
    static final int ATTR_RSTRIP = 256;

    private final TokenizerModel model;
    private final Vocabulary vocab;
    private final int[] attrs;
    private final SpecialTokens special;
    private final boolean addBos;
    private final boolean addEos;
    private final boolean addSpacePrefix;
    private final boolean cleanSpaces;
    private final boolean[] eog;
    private final int[] specialCache;
    private final LongIntMap trieNext;
    private final int[] trieTerminal;
    private final byte[][] pieces; // token_to_piece(id, special = true)
    private final SpmEncoder spm;
    private final BpeEncoder bpe;
    private final TextSplitter splitter;
    private final PreTokenizer pre;

    VocabTokenizer(TokenizerModel model, Vocabulary vocab, int[] attrs, SpecialTokens special, boolean addBos,
                   boolean addEos, boolean addSpacePrefix, boolean cleanSpaces, boolean[] eog,
                   List<String> merges, PreTokenizer pre, boolean ignoreMerges) {
        this.model = model;
        this.vocab = vocab;
        this.attrs = attrs.clone();
        this.special = special;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;
        this.cleanSpaces = cleanSpaces;
        this.eog = eog.clone();
        this.pre = pre;
        if (model == TokenizerModel.SPM) {
            this.spm = new SpmEncoder(vocab, special.unk());
            this.bpe = null;
            this.splitter = null;
        } else {
            this.spm = null;
            this.bpe = new BpeEncoder(vocab, merges, ignoreMerges);
            this.splitter = TextSplitter.of(pre.regexes());
        }
        List<Integer> cache = new ArrayList<>();
        for (int id = 0; id < vocab.size(); id++) {
            if ((attrs[id] & (ATTR_CONTROL | ATTR_USER_DEFINED | ATTR_UNKNOWN)) != 0) {
                cache.add(id);
            }
        }
        // longest first; equal lengths by id (llama.cpp's std::sort leaves their order unspecified)
        cache.sort((a, b) -> {
            int c = Integer.compare(vocab.pieceBytes(b).length, vocab.pieceBytes(a).length);
            return c != 0 ? c : Integer.compare(a, b);
        });
        this.specialCache = cache.stream().mapToInt(Integer::intValue).toArray();
        // a byte trie of the special pieces finds, in one pass, which of them occur in a text at all
        this.trieNext = new LongIntMap(Math.max(16, specialCache.length * 8));
        IntList terminal = new IntList(64);
        terminal.add(-1);
        for (int id : specialCache) {
            int node = 0;
            for (byte b : vocab.pieceBytes(id)) {
                long key = ((long) node << 8) | (b & 0xFF);
                int child = trieNext.get(key);
                if (child < 0) {
                    child = terminal.size();
                    terminal.add(-1);
                    trieNext.putIfAbsent(key, child);
                }
                node = child;
            }
            terminal.set(node, id);
        }
        this.trieTerminal = terminal.toArray();
        this.pieces = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            pieces[id] = renderPiece(id);
        }
    }

    /** Marks every special piece occurring anywhere in {@code text}. */
    private boolean[] occurringSpecials(byte[] text) {
        boolean[] seen = new boolean[vocab.size()];
        for (int i = 0; i < text.length; i++) {
            int node = 0;
            for (int j = i; j < text.length; j++) {
                node = trieNext.get(((long) node << 8) | (text[j] & 0xFF));
                if (node < 0) {
                    break;
                }
                int t = trieTerminal[node];
                if (t >= 0) {
                    seen[t] = true;
                }
            }
        }
        return seen;
    }

    TokenizerModel model() {
        return model;
    }

    PreTokenizer preTokenizer() {
        return pre;
    }

    // ---------------------------------------------------------------- encode

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        return encodeUtf8(text.getBytes(StandardCharsets.UTF_8), addSpecial, parseSpecial);
    }

    @Override
    public int[] encodeUtf8(byte[] text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList(Math.max(16, text.length / 3));
        List<long[]> frags = partition(text, parseSpecial);
        if (addSpecial && addBos) {
            requireId(special.bos(), "add_bos is set but the vocabulary has no BOS token");
            out.add(special.bos());
        }
        if (model == TokenizerModel.SPM) {
            boolean prevSpecial = true;
            for (long[] f : frags) {
                if (f[0] >= 0) {
                    out.add((int) f[0]);
                    prevSpecial = true;
                    continue;
                }
                byte[] escaped = escapeSpaces(text, (int) f[1], (int) f[2], addSpacePrefix && prevSpecial);
                spm.encode(escaped, 0, escaped.length, out);
                prevSpecial = false;
            }
        } else {
            byte[] buf = new byte[64];
            BpeEncoder.Scratch scratch = new BpeEncoder.Scratch();
            for (long[] f : frags) {
                if (f[0] >= 0) {
                    out.add((int) f[0]);
                    continue;
                }
                int[] cps = Utf8.codePoints(text, (int) f[1], (int) f[2]);
                int[] words = splitter.split(cps);
                int cp = 0;
                for (int wl : words) {
                    int need = 4 * wl;
                    if (buf.length < need) {
                        buf = new byte[Math.max(need, buf.length * 2)];
                    }
                    int n = Utf8.encode(cps, cp, cp + wl, buf, 0);
                    bpe.encodeWord(buf, 0, n, out, scratch);
                    cp += wl;
                }
            }
        }
        if (addSpecial && addEos) {
            requireId(special.eos(), "add_eos is set but the vocabulary has no EOS token");
            out.add(special.eos());
        }
        return out.toArray();
    }

    private static void requireId(int id, String msg) {
        if (id < 0) {
            throw new IllegalStateException(msg);
        }
    }

    private static byte[] escapeSpaces(byte[] text, int off, int len, boolean prefix) {
        int spaces = prefix ? 1 : 0;
        for (int i = off; i < off + len; i++) {
            if (text[i] == ' ') {
                spaces++;
            }
        }
        byte[] out = new byte[len + (prefix ? 1 : 0) + 2 * spaces];
        int p = 0;
        if (prefix) {
            p = putSpace(out, p);
        }
        for (int i = off; i < off + len; i++) {
            if (text[i] == ' ') {
                p = putSpace(out, p);
            } else {
                out[p++] = text[i];
            }
        }
        return out;
    }

    private static int putSpace(byte[] out, int p) {
        out[p++] = (byte) 0xE2; // U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space
        out[p++] = (byte) 0x96;
        out[p++] = (byte) 0x81;
        return p;
    }

    private static boolean isCSpace(byte b) {
        return b == ' ' || (b >= 0x09 && b <= 0x0D);
    }

    /**
     * Cuts special tokens out of the text. Each fragment is {token, offset, length}; token -1 marks
     * raw text. Tokens are tried longest first over all fragments, as llama.cpp does.
     */
    private List<long[]> partition(byte[] text, boolean parseSpecial) {
        List<long[]> frags = new ArrayList<>();
        if (text.length == 0) {
            return frags;
        }
        frags.add(new long[]{-1, 0, text.length});
        if (specialCache.length == 0) {
            return frags;
        }
        // fragments are pieces of the text, so a special piece absent from the text never matches
        boolean[] occurs = occurringSpecials(text);
        for (int id : specialCache) {
            if (!occurs[id]) {
                continue;
            }
            int a = attrs[id];
            if (!parseSpecial && (a & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0) {
                continue;
            }
            byte[] t = vocab.pieceBytes(id);
            List<long[]> next = null;
            for (int fi = 0; fi < frags.size(); fi++) {
                long[] f = frags.get(fi);
                if (f[0] >= 0) {
                    if (next != null) {
                        next.add(f);
                    }
                    continue;
                }
                int off = (int) f[1];
                int len = (int) f[2];
                int m = indexOf(text, off, off + len, t);
                if (m < 0) {
                    if (next != null) {
                        next.add(f);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(frags.subList(0, fi));
                }
                while (true) {
                    if (m < 0) {
                        next.add(new long[]{-1, off, len});
                        break;
                    }
                    if (m > off) {
                        int leftLen = m - off;
                        if ((a & ATTR_LSTRIP) != 0) {
                            while (leftLen > 0 && isCSpace(text[off + leftLen - 1])) {
                                leftLen--;
                            }
                        }
                        if (leftLen > 0) {
                            next.add(new long[]{-1, off, leftLen});
                        }
                    }
                    next.add(new long[]{id, 0, 0});
                    int rOff = m + t.length;
                    int rLen = off + len - rOff;
                    if (rLen <= 0) {
                        break;
                    }
                    if ((a & ATTR_RSTRIP) != 0) {
                        while (rLen > 0 && isCSpace(text[rOff])) {
                            rOff++;
                            rLen--;
                        }
                    }
                    if (rLen == 0) {
                        break;
                    }
                    off = rOff;
                    len = rLen;
                    m = indexOf(text, off, off + len, t);
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }

    private static int indexOf(byte[] text, int from, int to, byte[] t) {
        byte first = t[0];
        int last = to - t.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (text[i] != first) {
                continue;
            }
            for (int j = 1; j < t.length; j++) {
                if (text[i + j] != t[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    // ---------------------------------------------------------------- decode

    private byte[] renderPiece(int id) {
        int a = attrs[id];
        byte[] raw = vocab.pieceBytes(id);
        if ((a & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED)) != 0) {
            return raw;
        }
        if ((a & ATTR_NORMAL) != 0) {
            if (model == TokenizerModel.SPM) {
                return vocab.piece(id).replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
            }
            return byteLevelDecode(vocab.piece(id));
        }
        if ((a & ATTR_BYTE) != 0) {
            String p = vocab.piece(id);
            try {
                return new byte[]{(byte) Integer.parseInt(p.substring(3, 5), 16)};
            } catch (RuntimeException e) {
                return new byte[0];
            }
        }
        return new byte[0];
    }

    private static byte[] byteLevelDecode(String piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        for (int i = 0; i < piece.length(); ) {
            int cp = piece.codePointAt(i);
            i += Character.charCount(cp);
            int b = ByteLevel.byteOf(cp);
            if (b >= 0) {
                out.write(b);
            } else {
                // llama.cpp's marker for a character outside the byte table
                StringBuilder sb = new StringBuilder("[UNK_BYTE_0x");
                for (byte u : new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8)) {
                    sb.append(String.format("%02x", u & 0xFF));
                }
                sb.append(piece).append(']');
                out.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
            }
        }
        return out.toByteArray();
    }

    /** The bytes token {@code id} renders to (empty for CONTROL/UNKNOWN unless {@code renderSpecial}). */
    byte[] pieceBytes(int id, boolean renderSpecial) {
        if (!vocab.inRange(id)) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (size " + vocab.size() + ")");
        }
        if (!renderSpecial && (attrs[id] & (ATTR_UNKNOWN | ATTR_CONTROL)) != 0) {
            return new byte[0];
        }
        return pieces[id];
    }

    /**
     * {@inheritDoc}
     *
     * <p>As llama.cpp's {@code llama_detokenize(remove_special = !renderSpecial, unparse_special =
     * renderSpecial)}: the SPM prefix space is removed from the first token, a leading BOS (and
     * trailing EOS) added by the vocabulary's flags is dropped when not rendering specials, and
     * vocabularies with clean_up_tokenization_spaces remove spaces before {@code ?!.,} and in
     * contractions.
     */
    @Override
    public String decode(int[] ids, boolean renderSpecial) {
        return new String(decodeBytes(ids, renderSpecial), StandardCharsets.UTF_8);
    }

    byte[] decodeBytes(int[] ids, boolean renderSpecial) {
        boolean removeSpecial = !renderSpecial;
        boolean removeSpace = addSpacePrefix;
        int from = 0;
        int to = ids.length;
        if (removeSpecial && addBos && to > 0 && ids[0] == special.bos()) {
            removeSpace = false;
            from++;
        }
        if (removeSpecial && addEos && to > from && ids[to - 1] == special.eos()) {
            to--;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = from; i < to; i++) {
            byte[] p = pieceBytes(ids[i], renderSpecial);
            int skip = removeSpace && p.length > 0 && p[0] == ' ' ? 1 : 0;
            out.write(p, skip, p.length - skip);
            removeSpace = false;
        }
        byte[] text = out.toByteArray();
        return cleanSpaces ? cleanUpSpaces(text) : text;
    }

    /** llama.cpp's three clean-up passes over the detokenized bytes. */
    static byte[] cleanUpSpaces(byte[] text) {
        int total = text.length;
        // pass 1: " ?", " !", " .", " ," lose the space
        int total1 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total1; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) {
                total--;
            }
            text[total++] = x;
        }
        // pass 2: a single apostrophe between spaces loses both spaces
        int total2 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total2; i++) {
            byte x = text[i];
            if (x == '\'' && i + 1 < total2 && text[i - 1] == ' ' && text[i + 1] == ' ') {
                total--;
                text[++i] = 0;
            }
            text[total++] = x;
        }
        // pass 3: " 's", " 'm", " 're", " 've" lose the space (" 't", " 'd", " 'll" keep it)
        int total3 = total;
        total = total > 0 ? 1 : 0;
        for (int i = 1; i < total3; i++) {
            byte x = text[i];
            if (text[i - 1] == ' ' && x == '\'' && i + 1 < total3) {
                byte x1 = text[i + 1];
                if (x1 == 't' || x1 == 'd') {
                    // kept
                } else if (x1 == 's' || x1 == 'm') {
                    total--;
                } else if (i + 2 < total3) {
                    byte x2 = text[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) {
                        total--;
                    }
                }
            }
            text[total++] = x;
        }
        return Arrays.copyOf(text, total);
    }

    @Override
    public StreamingDecoder streamingDecoder() {
        return streamingDecoder(false);
    }

    /**
     * Per-token rendering as llama.cpp's {@code llama_token_to_piece} does while generating: no
     * leading-space removal, no clean-up; only UTF-8 completeness is handled.
     */
    @Override
    public StreamingDecoder streamingDecoder(boolean renderSpecial) {
        Utf8StreamDecoder utf8 = new Utf8StreamDecoder();
        return new StreamingDecoder() {
            @Override
            public String next(int id) {
                return utf8.next(pieceBytes(id, renderSpecial));
            }

            @Override
            public String flush() {
                return utf8.flush();
            }
        };
    }

    // ---------------------------------------------------------------- facts

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public int bos() {
        return special.bos();
    }

    @Override
    public int eos() {
        return special.eos();
    }

    @Override
    public int eot() {
        return special.eot();
    }

    @Override
    public SpecialTokens specialTokens() {
        return special;
    }

    @Override
    public boolean addsBos() {
        return addBos;
    }

    @Override
    public boolean addsEos() {
        return addEos;
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && id < eog.length && eog[id];
    }

    @Override
    public String piece(int id) {
        return vocab.piece(id);
    }

    @Override
    public TokenType tokenType(int id) {
        return vocab.type(id);
    }

    @Override
    public boolean isControl(int id) {
        return vocab.inRange(id) && (attrs[id] & (ATTR_CONTROL | ATTR_UNKNOWN)) != 0;
    }

    @Override
    public String toString() {
        return "Tokenizer[" + model + (pre != null ? "/" + pre.names().getFirst() : "") + ", " + vocab.size()
                + " tokens, bos=" + special.bos() + ", eos=" + special.eos() + ", add_bos=" + addBos + "]";
    }
}
