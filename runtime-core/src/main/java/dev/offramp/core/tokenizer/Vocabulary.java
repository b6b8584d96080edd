package dev.offramp.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The token table: piece strings as stored (SentencePiece pieces with {@code ▁}, or GPT-2 byte-level
 * strings), scores, and types. Immutable.
 *
 * <pre>{@code
 * Vocabulary v = Vocabulary.of(pieces, scores, types);   // scores/types may be null
 * int id = v.id("▁Hello");                                  // -1 when absent
 * }</pre>
 */
public final class Vocabulary {
    private final String[] pieces;
    private final byte[][] utf8;
    private final float[] scores;
    private final TokenType[] types;
    private final BytesMap byText;
    private final int maxTokenBytes;

    private Vocabulary(String[] pieces, float[] scores, TokenType[] types) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.utf8 = new byte[pieces.length][];
        this.byText = new BytesMap(pieces.length);
        int max = 0;
        for (int i = 0; i < pieces.length; i++) {
            utf8[i] = pieces[i].getBytes(StandardCharsets.UTF_8);
            max = Math.max(max, utf8[i].length);
            int prev = byText.putIfAbsent(utf8[i], i);
            if (prev != i) {
                throw new IllegalArgumentException("duplicate token in vocabulary: '" + pieces[i]
                        + "' has ids " + prev + " and " + i);
            }
        }
        this.maxTokenBytes = max;
    }

    /**
     * @param pieces token strings, index = id (empty strings become {@code [EMPTY_<id>]} like llama.cpp)
     * @param scores per-token scores (SentencePiece merge priority) or null for all zero
     * @param types  per-token types or null for all NORMAL
     * @throws IllegalArgumentException on duplicate pieces or mismatched lengths
     */
    public static Vocabulary of(String[] pieces, float[] scores, TokenType[] types) {
        Objects.requireNonNull(pieces, "pieces");
        String[] p = pieces.clone();
        for (int i = 0; i < p.length; i++) {
            if (p[i] == null || p[i].isEmpty()) {
                p[i] = "[EMPTY_" + i + "]";
            }
        }
        float[] s = scores == null ? new float[p.length] : Arrays.copyOf(scores, p.length);
        if (scores != null && scores.length < p.length) {
            throw new IllegalArgumentException("scores has " + scores.length + " entries for " + p.length + " tokens");
        }
        TokenType[] t;
        if (types == null) {
            t = new TokenType[p.length];
            Arrays.fill(t, TokenType.NORMAL);
        } else {
            if (types.length < p.length) {
                throw new IllegalArgumentException("token types has " + types.length + " entries for " + p.length + " tokens");
            }
            t = Arrays.copyOf(types, p.length);
        }
        return new Vocabulary(p, s, t);
    }

    public int size() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[id];
    }

    byte[] pieceBytes(int id) {
        return utf8[id];
    }

    public float score(int id) {
        return scores[id];
    }

    public TokenType type(int id) {
        return types[id];
    }

    /** The id of an exact piece, or -1. */
    public int id(String piece) {
        return byText.get(piece.getBytes(StandardCharsets.UTF_8));
    }

    int id(byte[] buf, int off, int len) {
        return byText.get(buf, off, len);
    }

    int maxTokenBytes() {
        return maxTokenBytes;
    }

    boolean inRange(int id) {
        return id >= 0 && id < pieces.length;
    }

    /** A copy with some token types changed (used for llama.cpp's attribute fix-ups). */
    Vocabulary withTypes(TokenType[] newTypes) {
        return new Vocabulary(pieces, scores, newTypes.clone());
    }
}
