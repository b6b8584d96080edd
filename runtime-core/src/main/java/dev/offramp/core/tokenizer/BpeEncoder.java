package dev.offramp.core.tokenizer;

import java.util.List;

/**
 * Byte-level BPE merging as llama.cpp's {@code gpt2} vocab type does it, on one pre-tokenized word:
 * start from single bytes, repeatedly apply the merge with the lowest rank among adjacent pairs
 * (ties: leftmost), then emit each symbol's token, or its single-byte tokens if the symbol is not a
 * token. Symbols are interned ids of byte strings (a vocabulary id when the string is a token), so a
 * merge lookup is one probe of a {@code long -> int} table; a heap keeps it O(n log n).
 */
final class BpeEncoder {
    private final int nVocab;
    /** Raw byte strings (byte-level pieces decoded) to interned ids; ids below nVocab are tokens. */
    private final BytesMap interned;
    private final LongIntMap ranks;
    private final int[] mergeResult;
    private final int[] byteSymbol = new int[256];
    private final int[] byteToken = new int[256];
    private final boolean ignoreMerges;

    BpeEncoder(Vocabulary vocab, List<String> merges, boolean ignoreMerges) {
        this.nVocab = vocab.size();
        this.ignoreMerges = ignoreMerges;
        this.interned = new BytesMap(vocab.size() + merges.size() / 4);
        for (int id = 0; id < vocab.size(); id++) {
            byte[] raw = ByteLevel.decode(vocab.piece(id));
            if (raw != null) {
                interned.putIfAbsent(raw, id);
            }
        }
        this.ranks = new LongIntMap(merges.size());
        this.mergeResult = new int[merges.size()];
        int nextExtra = nVocab;
        for (int rank = 0; rank < merges.size(); rank++) {
            mergeResult[rank] = -1;
            String m = merges.get(rank);
            int sp = m.indexOf(' ', 1);
            if (sp < 0) {
                continue; // llama.cpp records an unmatchable ("", "") pair
            }
            byte[] a = ByteLevel.decode(m.substring(0, sp));
            byte[] b = ByteLevel.decode(m.substring(sp + 1));
            if (a == null || b == null || a.length == 0 || b.length == 0) {
                continue; // cannot occur between byte-level symbols
            }
            byte[] ab = new byte[a.length + b.length];
            System.arraycopy(a, 0, ab, 0, a.length);
            System.arraycopy(b, 0, ab, a.length, b.length);
            int ia = interned.putIfAbsent(a, nextExtra);
            if (ia == nextExtra) {
                nextExtra++;
            }
            int ib = interned.putIfAbsent(b, nextExtra);
            if (ib == nextExtra) {
                nextExtra++;
            }
            int iab = interned.putIfAbsent(ab, nextExtra);
            if (iab == nextExtra) {
                nextExtra++;
            }
            long key = ((long) ia << 32) | (ib & 0xFFFFFFFFL);
            if (ranks.get(key) < 0) {
                ranks.putIfAbsent(key, rank);
                mergeResult[rank] = iab;
            }
        }
        byte[] one = new byte[1];
        for (int b = 0; b < 256; b++) {
            one[0] = (byte) b;
            byteSymbol[b] = interned.get(one);
            byteToken[b] = byteSymbol[b] >= 0 && byteSymbol[b] < nVocab ? byteSymbol[b] : -1;
        }
    }

    /** The token whose raw bytes are exactly {@code w[off, off+len)}, or -1. */
    int tokenOf(byte[] w, int off, int len) {
        int id = interned.get(w, off, len);
        return id < nVocab ? id : -1;
    }

    /** Per-call work arrays, reused across the words of one text (a text has many short words). */
    static final class Scratch {
        int[] sym = new int[64];
        int[] size = new int[64];
        int[] prev = new int[64];
        int[] next = new int[64];
        final MergeQueue queue = new MergeQueue();

        void ensure(int n) {
            if (sym.length < n) {
                int cap = Math.max(n, sym.length * 2);
                sym = new int[cap];
                size = new int[cap];
                prev = new int[cap];
                next = new int[cap];
            }
        }
    }

    void encodeWord(byte[] w, int off, int len, IntList out) {
        encodeWord(w, off, len, out, new Scratch());
    }

    void encodeWord(byte[] w, int off, int len, IntList out, Scratch scratch) {
        if (len == 0) {
            return;
        }
        if (ignoreMerges) {
            int id = tokenOf(w, off, len);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        if (len == 1) {
            emit(w, off, 1, byteSymbol[w[off] & 0xFF], out);
            return;
        }
        scratch.ensure(len);
        int[] sym = scratch.sym;
        int[] size = scratch.size;
        int[] prev = scratch.prev;
        int[] next = scratch.next;
        for (int i = 0; i < len; i++) {
            sym[i] = byteSymbol[w[off + i] & 0xFF];
            size[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < len ? i + 1 : -1;
        }
        MergeQueue q = scratch.queue;
        q.clear();
        for (int i = 1; i < len; i++) {
            addPair(q, sym, size, i - 1, i);
        }
        while (!q.isEmpty()) {
            q.poll();
            int l = q.topLeft;
            int r = q.topRight;
            if (size[l] == 0 || size[r] == 0 || size[l] + size[r] != q.topSize) {
                continue;
            }
            sym[l] = mergeResult[(int) q.topPriority];
            size[l] += size[r];
            size[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            addPair(q, sym, size, prev[l], l);
            addPair(q, sym, size, l, next[l]);
        }
        int pos = off;
        for (int i = 0; i < len; i++) {
            if (size[i] > 0) {
                emit(w, pos, size[i], sym[i], out);
                pos += size[i];
            }
        }
    }

    private void emit(byte[] w, int off, int len, int symbol, IntList out) {
        if (symbol >= 0 && symbol < nVocab) {
            out.add(symbol);
            return;
        }
        // not a token: llama.cpp emits the single-byte tokens it can find and silently drops the rest
        for (int j = off; j < off + len; j++) {
            int t = byteToken[w[j] & 0xFF];
            if (t >= 0) {
                out.add(t);
            }
        }
    }

    private void addPair(MergeQueue q, int[] sym, int[] size, int l, int r) {
        if (l < 0 || r < 0 || sym[l] < 0 || sym[r] < 0) {
            return;
        }
        int rank = ranks.get(((long) sym[l] << 32) | (sym[r] & 0xFFFFFFFFL));
        if (rank < 0) {
            return;
        }
        q.push(rank, l, r, size[l] + size[r]);
    }
}
