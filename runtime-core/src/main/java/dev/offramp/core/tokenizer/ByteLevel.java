package dev.offramp.core.tokenizer;

/**
 * GPT-2's reversible byte-to-character table: byte-level BPE vocabularies spell every raw byte as
 * one printable code point, so that a token string never contains whitespace or control characters.
 * Printable Latin-1 bytes ({@code !..~}, {@code ¡..¬}, {@code ®..ÿ}) stand for themselves; the other
 * 68 bytes map, in byte order, to U+0100, U+0101, ... (so a space is {@code Ġ} U+0120 and a newline
 * {@code Ċ} U+010A).
 */
final class ByteLevel {
    private static final int[] BYTE_TO_CP = new int[256];
    private static final int[] CP_TO_BYTE = new int[512];

    static {
        java.util.Arrays.fill(CP_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int cp = printable ? b : 256 + n++;
            BYTE_TO_CP[b] = cp;
            CP_TO_BYTE[cp] = b;
        }
    }

    private ByteLevel() {
    }

    static int codePointOf(int b) {
        return BYTE_TO_CP[b & 0xFF];
    }

    /** The byte a code point stands for, or -1 if it is not part of the table. */
    static int byteOf(int cp) {
        return cp >= 0 && cp < CP_TO_BYTE.length ? CP_TO_BYTE[cp] : -1;
    }

    /** The raw bytes a byte-level token string spells, or null if it holds a character outside the table. */
    static byte[] decode(String s) {
        byte[] out = new byte[s.length()];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            int b = byteOf(cp);
            if (b < 0) {
                return null;
            }
            out[n++] = (byte) b;
        }
        return java.util.Arrays.copyOf(out, n);
    }

    /** The byte-level spelling of raw bytes. */
    static String encode(byte[] raw, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        for (int i = off; i < off + len; i++) {
            sb.appendCodePoint(BYTE_TO_CP[raw[i] & 0xFF]);
        }
        return sb.toString();
    }
}
