package dev.offramp.core.tokenizer;

import java.util.Arrays;

/**
 * UTF-8 helpers with llama.cpp's leniency: a byte that does not start a complete sequence decodes
 * to U+FFFD and only that byte is consumed; overlong forms and surrogates are not rejected (they
 * re-encode to the same bytes), so tokenization never throws on bad input.
 */
final class Utf8 {
    private Utf8() {
    }

    /** Sequence length implied by a lead byte, by its high nibble (continuation bytes count as 1). */
    static int sequenceLength(byte lead) {
        int hi = (lead & 0xFF) >>> 4;
        return hi < 12 ? 1 : hi < 14 ? 2 : hi == 14 ? 3 : 4;
    }

    static int[] codePoints(byte[] b, int off, int len) {
        int[] out = new int[len];
        int n = 0;
        int end = off + len;
        int i = off;
        while (i < end) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                out[n++] = c;
                i++;
            } else if ((c & 0x40) == 0) {
                out[n++] = 0xFFFD;
                i++;
            } else if ((c & 0x20) == 0) {
                if (i + 1 < end && cont(b[i + 1])) {
                    out[n++] = ((c & 0x1F) << 6) | (b[i + 1] & 0x3F);
                    i += 2;
                } else {
                    out[n++] = 0xFFFD;
                    i++;
                }
            } else if ((c & 0x10) == 0) {
                if (i + 2 < end && cont(b[i + 1]) && cont(b[i + 2])) {
                    out[n++] = ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F);
                    i += 3;
                } else {
                    out[n++] = 0xFFFD;
                    i++;
                }
            } else if ((c & 0x08) == 0) {
                if (i + 3 < end && cont(b[i + 1]) && cont(b[i + 2]) && cont(b[i + 3])) {
                    int cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F);
                    // llama.cpp would throw while re-encoding a code point above U+10FFFF; we substitute
                    out[n++] = cp <= 0x10FFFF ? cp : 0xFFFD;
                    i += 4;
                } else {
                    out[n++] = 0xFFFD;
                    i++;
                }
            } else {
                out[n++] = 0xFFFD;
                i++;
            }
        }
        return n == out.length ? out : Arrays.copyOf(out, n);
    }

    private static boolean cont(byte b) {
        return (b & 0xC0) == 0x80;
    }

    /** Appends the UTF-8 bytes of {@code cps[from, to)} to {@code out} at {@code pos}; returns the new position. */
    static int encode(int[] cps, int from, int to, byte[] out, int pos) {
        for (int i = from; i < to; i++) {
            int cp = cps[i];
            if (cp < 0x80) {
                out[pos++] = (byte) cp;
            } else if (cp < 0x800) {
                out[pos++] = (byte) (0xC0 | (cp >> 6));
                out[pos++] = (byte) (0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) {
                out[pos++] = (byte) (0xE0 | (cp >> 12));
                out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[pos++] = (byte) (0x80 | (cp & 0x3F));
            } else {
                out[pos++] = (byte) (0xF0 | (cp >> 18));
                out[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                out[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                out[pos++] = (byte) (0x80 | (cp & 0x3F));
            }
        }
        return pos;
    }

    static int encodedLength(int[] cps, int from, int to) {
        int n = 0;
        for (int i = from; i < to; i++) {
            int cp = cps[i];
            n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        return n;
    }
}
