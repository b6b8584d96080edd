package dev.offramp.core.tokenizer;

/**
 * SentencePiece-BPE encoding as llama.cpp's {@code llama} vocab type does it: start from UTF-8
 * characters, repeatedly merge the adjacent pair whose concatenation is a vocabulary piece with the
 * highest score (ties: leftmost), and spell leftover characters that are not pieces as byte tokens
 * ({@code <0xE2>}). A linked list over the characters plus a heap of candidate pairs keeps this
 * O(n log n) even for a megabyte without spaces.
 */
final class SpmEncoder {
    private final Vocabulary vocab;
    private final int[] byteTokens;
    /** No piece has a {@code ▁} right after another character, so no merge can cross into a {@code ▁}. */
    private final boolean cutBeforeSpace;
    private final LongIntMap pairs;

    SpmEncoder(Vocabulary vocab, int unk) {
        this.vocab = vocab;
        this.byteTokens = new int[256];
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            if (id < 0 && b < 0x80) {
                id = vocab.id(String.valueOf((char) b));
            }
            // llama.cpp throws here (vocabulary without byte pieces); we fall back to <unk>
            byteTokens[b] = id >= 0 ? id : unk;
        }
        boolean cut = true;
        for (int id = 0; id < vocab.size() && cut; id++) {
            String p = vocab.piece(id);
            for (int i = 1; i < p.length(); i++) {
                if (p.charAt(i) == '\u2581' && p.charAt(i - 1) != '\u2581') {
                    cut = false;
                    break;
                }
            }
        }
        this.cutBeforeSpace = cut;
        // every way of writing a piece as two pieces: then a candidate merge of two symbols that are
        // pieces is one probe of a long -> int table instead of hashing the concatenated bytes
        this.pairs = new LongIntMap(vocab.size() * 4);
        for (int id = 0; id < vocab.size(); id++) {
            byte[] p = vocab.pieceBytes(id);
            for (int j = Utf8.sequenceLength(p[0]); j < p.length; j += Utf8.sequenceLength(p[j])) {
                int a = vocab.id(p, 0, j);
                int b = a < 0 ? -1 : vocab.id(p, j, p.length - j);
                if (b >= 0) {
                    pairs.putIfAbsent(((long) a << 32) | b, id);
                }
            }
        }
    }

    /** Priority for the min-heap: a higher score must come first. */
    private static long priority(float score) {
        int bits = Float.floatToIntBits(score);
        int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
        return -(long) sortable;
    }

    void encode(byte[] text, int off, int len, IntList out) {
        if (len == 0) {
            return;
        }
        int n = 0;
        int[] start = new int[len];
        int[] size = new int[len];
        for (int p = off, end = off + len; p < end; ) {
            int l = Math.min(Utf8.sequenceLength(text[p]), end - p);
            start[n] = p;
            size[n] = l;
            n++;
            p += l;
        }
        int[] prev = new int[n];
        int[] next = new int[n];
        int[] sym = new int[n];
        for (int i = 0; i < n; i++) {
            sym[i] = vocab.id(text, start[i], size[i]);
        }
        MergeQueue q = new MergeQueue();
        // Merging is independent on either side of a cut no vocabulary piece can span (see
        // cutBeforeSpace), so long texts are merged segment by segment: same result, small heaps.
        int segStart = 0;
        for (int i = 1; i <= n; i++) {
            if (i == n || (cutBeforeSpace && isSpace(text, start[i], size[i])
                    && !isSpace(text, start[i - 1], size[i - 1]) && isCompleteChar(text, start[i - 1], size[i - 1]))) {
                mergeRange(q, text, start, size, sym, prev, next, segStart, i, out);
                segStart = i;
            }
        }
    }

    private static boolean isSpace(byte[] t, int s, int len) {
        return len == 3 && t[s] == (byte) 0xE2 && t[s + 1] == (byte) 0x96 && t[s + 2] == (byte) 0x81;
    }

    private static boolean isCompleteChar(byte[] t, int s, int len) {
        if (Utf8.sequenceLength(t[s]) != len || ((t[s] & 0xC0) == 0x80)) {
            return false;
        }
        for (int i = 1; i < len; i++) {
            if ((t[s + i] & 0xC0) != 0x80) {
                return false;
            }
        }
        return true;
    }

    private void mergeRange(MergeQueue q, byte[] text, int[] start, int[] size, int[] sym, int[] prev, int[] next,
                            int lo, int hi, IntList out) {
        for (int i = lo; i < hi; i++) {
            prev[i] = i - 1 >= lo ? i - 1 : -1;
            next[i] = i + 1 < hi ? i + 1 : -1;
        }
        q.clear();
        for (int i = lo + 1; i < hi; i++) {
            tryAdd(q, text, start, size, sym, i - 1, i);
        }
        while (!q.isEmpty()) {
            q.poll();
            int l = q.topLeft;
            int r = q.topRight;
            if (size[l] == 0 || size[r] == 0 || size[l] + size[r] != q.topSize) {
                continue;
            }
            sym[l] = merged(text, start, size, sym, l, r);
            size[l] += size[r];
            size[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            tryAdd(q, text, start, size, sym, prev[l], l);
            tryAdd(q, text, start, size, sym, l, next[l]);
        }
        for (int i = lo; i != -1; i = next[i]) {
            int id = sym[i];
            if (id >= 0) {
                out.add(id);
            } else {
                for (int j = start[i]; j < start[i] + size[i]; j++) {
                    int t = byteTokens[text[j] & 0xFF];
                    if (t >= 0) {
                        out.add(t);
                    }
                }
            }
        }
    }

    /** The piece that symbols {@code l} and {@code r} spell together, or -1. */
    private int merged(byte[] text, int[] start, int[] size, int[] sym, int l, int r) {
        if (sym[l] >= 0 && sym[r] >= 0) {
            return pairs.get(((long) sym[l] << 32) | sym[r]);
        }
        int len = size[l] + size[r]; // a symbol that is not a piece (rare): look the bytes up
        return len > vocab.maxTokenBytes() ? -1 : vocab.id(text, start[l], len);
    }

    private void tryAdd(MergeQueue q, byte[] text, int[] start, int[] size, int[] sym, int l, int r) {
        if (l < 0 || r < 0) {
            return;
        }
        int id = merged(text, start, size, sym, l, r);
        if (id < 0) {
            return;
        }
        q.push(priority(vocab.score(id)), l, r, size[l] + size[r]);
    }
}
