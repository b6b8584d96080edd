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
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        MergeQueue q = new MergeQueue();
        for (int i = 1; i < n; i++) {
            tryAdd(q, text, start, size, i - 1, i);
        }
        while (!q.isEmpty()) {
            q.poll();
            int l = q.topLeft;
            int r = q.topRight;
            if (size[l] == 0 || size[r] == 0 || size[l] + size[r] != q.topSize) {
                continue;
            }
            size[l] += size[r];
            size[r] = 0;
            next[l] = next[r];
            if (next[r] >= 0) {
                prev[next[r]] = l;
            }
            tryAdd(q, text, start, size, prev[l], l);
            tryAdd(q, text, start, size, l, next[l]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            int id = vocab.id(text, start[i], size[i]);
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

    private void tryAdd(MergeQueue q, byte[] text, int[] start, int[] size, int l, int r) {
        if (l < 0 || r < 0) {
            return;
        }
        int len = size[l] + size[r];
        if (len > vocab.maxTokenBytes()) {
            return;
        }
        int id = vocab.id(text, start[l], len);
        if (id < 0) {
            return;
        }
        q.push(priority(vocab.score(id)), l, r, len);
    }
}
