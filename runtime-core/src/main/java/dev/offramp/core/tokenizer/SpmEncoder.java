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

    /** Work arrays for one call, sized to the largest segment seen. */
    private static final class Scratch {
        int[] start = new int[256];
        int[] size = new int[256];
        int[] sym = new int[256];
        int[] prev = new int[256];
        int[] next = new int[256];
        final MergeQueue queue = new MergeQueue();

        void ensure(int n) {
            if (start.length < n) {
                int cap = Math.max(n, start.length * 2);
                start = java.util.Arrays.copyOf(start, cap);
                size = java.util.Arrays.copyOf(size, cap);
                sym = new int[cap];
                prev = new int[cap];
                next = new int[cap];
            }
        }
    }

    void encode(byte[] text, int off, int len, IntList out) {
        if (len == 0) {
            return;
        }
        // Merging is independent on either side of a cut no vocabulary piece can span (see
        // cutBeforeSpace), so the text is merged segment by segment: same result, small heaps and
        // work arrays the size of a word rather than of the text.
        Scratch sc = new Scratch();
        int n = 0;
        int prevStart = -1;
        int prevLen = 0;
        for (int p = off, end = off + len; p < end; ) {
            int l = Math.min(Utf8.sequenceLength(text[p]), end - p);
            if (n > 0 && cutBeforeSpace && isSpace(text, p, l) && !isSpace(text, prevStart, prevLen)
                    && isCompleteChar(text, prevStart, prevLen)) {
                mergeSegment(sc, n, text, out);
                n = 0;
            }
            sc.ensure(n + 1);
            sc.start[n] = p;
            sc.size[n] = l;
            n++;
            prevStart = p;
            prevLen = l;
            p += l;
        }
        mergeSegment(sc, n, text, out);
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

    private void mergeSegment(Scratch sc, int n, byte[] text, IntList out) {
        int[] start = sc.start;
        int[] size = sc.size;
        int[] sym = sc.sym;
        int[] prev = sc.prev;
        int[] next = sc.next;
        for (int i = 0; i < n; i++) {
            sym[i] = vocab.id(text, start[i], size[i]);
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        MergeQueue q = sc.queue;
        q.clear();
        for (int i = 1; i < n; i++) {
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
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
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
