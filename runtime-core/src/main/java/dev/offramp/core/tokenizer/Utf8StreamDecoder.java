package dev.offramp.core.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns a stream of byte chunks into text, holding back a trailing incomplete UTF-8 sequence until
 * the bytes that complete it arrive (a byte-level token often carries half a character). Bytes that
 * can never become valid UTF-8 are emitted as U+FFFD right away. Not thread-safe: one per stream.
 */
final class Utf8StreamDecoder {
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    private ByteBuffer pending = ByteBuffer.allocate(64);

    String next(byte[] chunk) {
        if (chunk.length == 0) {
            return "";
        }
        if (pending.remaining() < chunk.length) {
            ByteBuffer bigger = ByteBuffer.allocate(Math.max(pending.capacity() * 2, pending.position() + chunk.length));
            pending.flip();
            bigger.put(pending);
            pending = bigger;
        }
        pending.put(chunk);
        pending.flip();
        CharBuffer out = CharBuffer.allocate(pending.remaining() + 1);
        // endOfInput=false: the decoder leaves an incomplete trailing sequence in the buffer
        decoder.decode(pending, out, false);
        pending.compact();
        out.flip();
        return out.toString();
    }

    String flush() {
        pending.flip();
        CharBuffer out = CharBuffer.allocate(pending.remaining() * 2 + 2);
        decoder.decode(pending, out, true);
        decoder.flush(out);
        decoder.reset();
        pending.clear();
        out.flip();
        return out.toString();
    }
}
