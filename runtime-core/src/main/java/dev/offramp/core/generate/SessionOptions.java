package dev.offramp.core.generate;

import dev.offramp.core.tensor.DType;

/**
 * How a session's KV cache and batches are sized.
 *
 * <pre>{@code
 * Session s = generator.newSession(SessionOptions.defaults().withContextLength(2048));
 * }</pre>
 *
 * @param contextLength positions the KV cache holds; 0 means the model's training context capped at
 *                      {@link #DEFAULT_MAX_CONTEXT}
 * @param kvType        F32 or F16
 * @param overflow      what happens when the context is full
 * @param prefillChunk  tokens per batched prefill step (bounds activation memory)
 */
public record SessionOptions(int contextLength, DType kvType, ContextOverflow overflow, int prefillChunk) {

    /** The context a session gets when none is asked for and the model's own is larger. */
    public static final int DEFAULT_MAX_CONTEXT = 4096;

    public SessionOptions {
        if (contextLength < 0) {
            throw new IllegalArgumentException("context length must be >= 0, got " + contextLength);
        }
        if (kvType != DType.F32 && kvType != DType.F16) {
            throw new IllegalArgumentException("KV cache type must be F32 or F16, got " + kvType);
        }
        if (overflow == null) {
            throw new IllegalArgumentException("overflow policy is required");
        }
        if (prefillChunk <= 0) {
            throw new IllegalArgumentException("prefill chunk must be positive, got " + prefillChunk);
        }
    }

    public static SessionOptions defaults() {
        return new SessionOptions(0, DType.F32, ContextOverflow.ERROR, 128);
    }

    public SessionOptions withContextLength(int n) {
        return new SessionOptions(n, kvType, overflow, prefillChunk);
    }

    public SessionOptions withKvType(DType t) {
        return new SessionOptions(contextLength, t, overflow, prefillChunk);
    }

    public SessionOptions withOverflow(ContextOverflow o) {
        return new SessionOptions(contextLength, kvType, o, prefillChunk);
    }

    public SessionOptions withPrefillChunk(int n) {
        return new SessionOptions(contextLength, kvType, overflow, n);
    }
}
