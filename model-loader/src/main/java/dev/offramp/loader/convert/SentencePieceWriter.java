package dev.offramp.loader.convert;

import dev.offramp.loader.gguf.GgufMetadata;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The inverse of {@link SentencePieceVocab}: a GGUF {@code llama} (SentencePiece BPE) vocabulary as a
 * {@code tokenizer.model} protobuf, so a GGUF converted to an HF folder keeps its tokenizer. Written:
 * pieces (text, score, type), a BPE trainer spec with the unk/bos/eos/pad ids and byte fallback when
 * the vocabulary has byte tokens, and Llama's identity normalizer (dummy prefix as
 * {@code tokenizer.ggml.add_space_prefix}, default on; whitespace escaped to U+2581, none removed).
 *
 * <pre>{@code
 * byte[] model = SentencePieceWriter.toModel(gguf.metadata());
 * }</pre>
 */
public final class SentencePieceWriter {

    private SentencePieceWriter() {
    }

    /** True when {@code md} holds a vocabulary this writer can express. */
    public static boolean canWrite(GgufMetadata md) {
        return "llama".equals(md.getString("tokenizer.ggml.model", null)) && md.contains("tokenizer.ggml.tokens")
                && md.contains("tokenizer.ggml.scores") && md.contains("tokenizer.ggml.token_type");
    }

    public static byte[] toModel(GgufMetadata md) {
        String[] pieces = md.getStringArray("tokenizer.ggml.tokens");
        float[] scores = md.getFloatArray("tokenizer.ggml.scores");
        int[] types = md.getIntArray("tokenizer.ggml.token_type");
        if (scores.length != pieces.length || types.length != pieces.length) {
            throw new IllegalArgumentException(md.file() + ": tokenizer.ggml.tokens/scores/token_type lengths differ");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(pieces.length * 16);
        boolean bytes = false;
        for (int i = 0; i < pieces.length; i++) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            bytesField(p, 1, pieces[i].getBytes(StandardCharsets.UTF_8));
            fixed32(p, 2, scores[i]);
            varintField(p, 3, types[i]);
            bytesField(out, 1, p.toByteArray());
            bytes |= types[i] == 6;
        }
        ByteArrayOutputStream t = new ByteArrayOutputStream();
        varintField(t, 3, 2); // model_type BPE
        varintField(t, 4, pieces.length);
        if (bytes) {
            varintField(t, 35, 1); // byte_fallback
        }
        varintField(t, 40, id(md, "tokenizer.ggml.unknown_token_id", 0));
        varintField(t, 41, id(md, "tokenizer.ggml.bos_token_id", 1));
        varintField(t, 42, id(md, "tokenizer.ggml.eos_token_id", 2));
        varintField(t, 43, id(md, "tokenizer.ggml.padding_token_id", -1));
        bytesField(out, 2, t.toByteArray());
        ByteArrayOutputStream n = new ByteArrayOutputStream();
        bytesField(n, 1, "identity".getBytes(StandardCharsets.UTF_8));
        varintField(n, 3, md.getBool("tokenizer.ggml.add_space_prefix", true) ? 1 : 0);
        varintField(n, 4, 0);
        varintField(n, 5, 1);
        bytesField(out, 3, n.toByteArray());
        return out.toByteArray();
    }

    /** GGUF stores "no such token" as -1 or 0xFFFFFFFF (uint32); both mean -1 here. */
    private static int id(GgufMetadata md, String key, int dflt) {
        if (!md.contains(key)) {
            return dflt;
        }
        long v = md.getLong(key);
        return v < 0 || v >= 0xFFFFFFFFL ? -1 : (int) v;
    }

    private static void varint(ByteArrayOutputStream o, long v) {
        while ((v & ~0x7FL) != 0) {
            o.write((int) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        o.write((int) v);
    }

    private static void varintField(ByteArrayOutputStream o, int field, long v) {
        varint(o, ((long) field << 3));
        varint(o, v); // negative int32 values take 10 bytes, as protobuf encodes them
    }

    private static void fixed32(ByteArrayOutputStream o, int field, float v) {
        varint(o, ((long) field << 3) | 5);
        int b = Float.floatToRawIntBits(v);
        for (int i = 0; i < 4; i++) {
            o.write(b >>> (8 * i));
        }
    }

    private static void bytesField(ByteArrayOutputStream o, int field, byte[] v) {
        varint(o, ((long) field << 3) | 2);
        varint(o, v.length);
        o.writeBytes(v);
    }
}
