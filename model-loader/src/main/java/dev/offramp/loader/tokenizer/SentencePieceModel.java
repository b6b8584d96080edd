package dev.offramp.loader.tokenizer;

import dev.offramp.core.tokenizer.TokenType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The parts of a SentencePiece {@code tokenizer.model} (a protobuf {@code ModelProto}) a tokenizer
 * needs: pieces with score and type, the model type, the special ids and the normalizer's
 * add_dummy_prefix. Field numbers are those of SentencePiece's {@code sentencepiece_model.proto};
 * unknown fields are skipped.
 */
record SentencePieceModel(String[] pieces, float[] scores, TokenType[] types, int modelType,
                          int unkId, int bosId, int eosId, int padId, boolean addDummyPrefix,
                          boolean removeExtraWhitespaces) {
    static final int UNIGRAM = 1;
    static final int BPE = 2;

    static SentencePieceModel parse(byte[] data, String source) {
        try {
            return parse0(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), source);
        } catch (RuntimeException e) {
            if (e instanceof TokenizerFormatException t) {
                throw t;
            }
            throw new TokenizerFormatException(source, "ModelProto", "not a valid SentencePiece model: " + e, e);
        }
    }

    private static SentencePieceModel parse0(ByteBuffer b, String source) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<TokenType> types = new ArrayList<>();
        int modelType = UNIGRAM;
        int unk = 0;
        int bos = 1;
        int eos = 2;
        int pad = -1;
        boolean dummyPrefix = true;
        boolean removeExtra = true;
        while (b.hasRemaining()) {
            long key = varint(b);
            int field = (int) (key >>> 3);
            int wire = (int) (key & 7);
            if (field == 1 && wire == 2) { // repeated SentencePiece pieces
                ByteBuffer m = sub(b);
                String piece = "";
                float score = 0;
                int type = 1;
                while (m.hasRemaining()) {
                    long k = varint(m);
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (f == 1 && w == 2) {
                        ByteBuffer s = sub(m);
                        byte[] bytes = new byte[s.remaining()];
                        s.get(bytes);
                        piece = new String(bytes, StandardCharsets.UTF_8);
                    } else if (f == 2 && w == 5) {
                        score = m.getFloat();
                    } else if (f == 3 && w == 0) {
                        type = (int) varint(m);
                    } else {
                        skip(m, w);
                    }
                }
                pieces.add(piece);
                scores.add(score);
                types.add(TokenType.fromCode(type));
            } else if (field == 2 && wire == 2) { // TrainerSpec
                ByteBuffer m = sub(b);
                while (m.hasRemaining()) {
                    long k = varint(m);
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (w != 0) {
                        skip(m, w);
                        continue;
                    }
                    long v = varint(m);
                    switch (f) {
                        case 3 -> modelType = (int) v;
                        case 40 -> unk = (int) v;
                        case 41 -> bos = (int) v;
                        case 42 -> eos = (int) v;
                        case 43 -> pad = (int) v;
                        default -> {
                        }
                    }
                }
            } else if (field == 3 && wire == 2) { // NormalizerSpec
                ByteBuffer m = sub(b);
                while (m.hasRemaining()) {
                    long k = varint(m);
                    int f = (int) (k >>> 3);
                    int w = (int) (k & 7);
                    if (w == 0 && f == 3) {
                        dummyPrefix = varint(m) != 0;
                    } else if (w == 0 && f == 4) {
                        removeExtra = varint(m) != 0;
                    } else {
                        skip(m, w);
                    }
                }
            } else {
                skip(b, wire);
            }
        }
        if (pieces.isEmpty()) {
            throw new TokenizerFormatException(source, "ModelProto.pieces", "no pieces (not a SentencePiece model?)");
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        return new SentencePieceModel(pieces.toArray(String[]::new), s, types.toArray(TokenType[]::new), modelType,
                unk, bos, eos, pad, dummyPrefix, removeExtra);
    }

    private static long varint(ByteBuffer b) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte x = b.get();
            v |= (long) (x & 0x7F) << shift;
            if (x >= 0) {
                return v;
            }
        }
        throw new IllegalStateException("varint too long");
    }

    private static ByteBuffer sub(ByteBuffer b) {
        long len = varint(b);
        if (len < 0 || len > b.remaining()) {
            throw new IllegalStateException("length " + len + " beyond the end");
        }
        ByteBuffer s = b.slice(b.position(), (int) len).order(ByteOrder.LITTLE_ENDIAN);
        b.position(b.position() + (int) len);
        return s;
    }

    private static void skip(ByteBuffer b, int wire) {
        switch (wire) {
            case 0 -> varint(b);
            case 1 -> b.position(b.position() + 8);
            case 2 -> sub(b);
            case 5 -> b.position(b.position() + 4);
            default -> throw new IllegalStateException("unsupported wire type " + wire);
        }
    }
}
