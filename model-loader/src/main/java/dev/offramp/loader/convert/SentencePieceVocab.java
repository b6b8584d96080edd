package dev.offramp.loader.convert;

import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufValue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A SentencePiece {@code tokenizer.model} turned into llama.cpp's GGUF vocabulary metadata
 * ({@code tokenizer.ggml.model = llama}): pieces, scores and types in id order (SentencePiece's type
 * numbers are the GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte),
 * unk/bos/eos/pad ids from the trainer spec, BOS added and EOS not (Llama's convention).
 *
 * <p>The file is a protobuf {@code ModelProto}; only the fields needed are read: {@code pieces} (1) with
 * {@code piece} (1), {@code score} (2), {@code type} (3), and {@code trainer_spec} (2) with
 * {@code unk_id} (40), {@code bos_id} (41), {@code eos_id} (42), {@code pad_id} (43).
 *
 * <pre>{@code
 * Map<String, GgufValue> md = SentencePieceVocab.read(Path.of("tokenizer.model"));
 * }</pre>
 */
public final class SentencePieceVocab {

    private SentencePieceVocab() {
    }

    public static Map<String, GgufValue> read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        int[] ids = {0, 1, 2, -1}; // unk, bos, eos, pad: SentencePiece's defaults
        try {
            Reader r = new Reader(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN), bytes.length);
            while (r.more()) {
                long key = r.varint();
                int field = (int) (key >>> 3);
                int wire = (int) (key & 7);
                if (field == 1 && wire == 2) {
                    Reader p = r.sub();
                    String piece = null;
                    float score = 0;
                    int type = 1;
                    while (p.more()) {
                        long k = p.varint();
                        int f = (int) (k >>> 3);
                        int w = (int) (k & 7);
                        if (f == 1 && w == 2) {
                            piece = p.string();
                        } else if (f == 2 && w == 5) {
                            score = p.fixed32();
                        } else if (f == 3 && w == 0) {
                            type = (int) p.varint();
                        } else {
                            p.skip(w);
                        }
                    }
                    if (piece == null) {
                        throw new ConversionException(file, "piece " + pieces.size() + " has no text");
                    }
                    pieces.add(piece);
                    scores.add(score);
                    types.add(type);
                } else if (field == 2 && wire == 2) {
                    Reader t = r.sub();
                    while (t.more()) {
                        long k = t.varint();
                        int f = (int) (k >>> 3);
                        int w = (int) (k & 7);
                        if (f >= 40 && f <= 43 && w == 0) {
                            ids[f - 40] = (int) t.varint();
                        } else {
                            t.skip(w);
                        }
                    }
                } else {
                    r.skip(wire);
                }
            }
        } catch (RuntimeException e) {
            throw new ConversionException(file, "not a SentencePiece model (" + e.getMessage() + ")");
        }
        if (pieces.isEmpty()) {
            throw new ConversionException(file, "not a SentencePiece model (no pieces)");
        }
        float[] sc = new float[scores.size()];
        int[] ty = new int[types.size()];
        for (int i = 0; i < sc.length; i++) {
            sc[i] = scores.get(i);
            ty[i] = types.get(i);
        }
        Map<String, GgufValue> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", GgufValue.string("llama"));
        md.put("tokenizer.ggml.pre", GgufValue.string("default"));
        md.put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(pieces.toArray(String[]::new))));
        md.put("tokenizer.ggml.scores", GgufValue.array(GgufArray.ofFloats(sc)));
        md.put("tokenizer.ggml.token_type", GgufValue.array(GgufArray.ofInt32s(ty)));
        if (ids[1] >= 0) {
            md.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(ids[1]));
        }
        if (ids[2] >= 0) {
            md.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(ids[2]));
        }
        if (ids[0] >= 0) {
            md.put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(ids[0]));
        }
        if (ids[3] >= 0) {
            md.put("tokenizer.ggml.padding_token_id", GgufValue.uint32(ids[3]));
        }
        md.put("tokenizer.ggml.add_bos_token", GgufValue.bool(true));
        md.put("tokenizer.ggml.add_eos_token", GgufValue.bool(false));
        return md;
    }

    /** Just enough protobuf: varints, length-delimited fields, fixed32/64, bounds-checked. */
    private static final class Reader {
        private final ByteBuffer b;
        private final int end;

        Reader(ByteBuffer b, int end) {
            this.b = b;
            this.end = end;
        }

        boolean more() {
            return b.position() < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (b.position() >= end) {
                    throw new IllegalStateException("truncated varint");
                }
                int x = b.get() & 0xFF;
                v |= (long) (x & 0x7F) << shift;
                if (x < 0x80) {
                    return v;
                }
            }
            throw new IllegalStateException("varint longer than 10 bytes");
        }

        int length() {
            long n = varint();
            if (n < 0 || n > end - b.position()) {
                throw new IllegalStateException("field length " + n + " beyond the message");
            }
            return (int) n;
        }

        Reader sub() {
            int n = length();
            Reader r = new Reader(b.duplicate().order(ByteOrder.LITTLE_ENDIAN), b.position() + n);
            b.position(b.position() + n);
            return r;
        }

        String string() {
            int n = length();
            byte[] s = new byte[n];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }

        float fixed32() {
            if (end - b.position() < 4) {
                throw new IllegalStateException("truncated fixed32");
            }
            return b.getFloat();
        }

        void skip(int wire) {
            switch (wire) {
                case 0 -> varint();
                case 1 -> advance(8);
                case 2 -> advance(length());
                case 5 -> advance(4);
                default -> throw new IllegalStateException("unsupported wire type " + wire);
            }
        }

        private void advance(int n) {
            if (n > end - b.position()) {
                throw new IllegalStateException("truncated field");
            }
            b.position(b.position() + n);
        }
    }
}
