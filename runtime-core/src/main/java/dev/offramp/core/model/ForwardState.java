package dev.offramp.core.model;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.KvCache;
import dev.offramp.core.tensor.DType;

/**
 * Everything one sequence needs besides the shared weights: its KV cache and the activation
 * buffers of one chunk. Activations are sized per chunk (not per prompt), so a long prompt and a
 * large vocabulary never allocate more than {@code chunk x max(dim, ffnDim)} floats per buffer plus
 * the logits of the rows that ask for them. Owned by one thread at a time; close it to free
 * device memory.
 */
public final class ForwardState implements AutoCloseable {

    final Backend backend;
    final KvCache cache;
    final int chunk;
    final Activations x;      // residual stream
    final Activations xb;     // normed input of a sub-block
    final Activations q;
    final Activations k;
    final Activations v;
    final Activations att;    // attention output before wo
    final Activations proj;   // wo / ffn_down output
    final Activations gate;
    final Activations up;
    /** {q, k, v} and {gate, up}: the outputs of the projections that share an input, for one backend call each. */
    final Activations[] qkv;
    final Activations[] gateUp;
    final int[] chunkTokens;
    final int[] chunkPositions;
    final int vocab;
    final int dim;
    Activations headIn;       // rows that need logits, grown on demand
    Activations logits;
    private boolean closed;

    ForwardState(Backend backend, ModelConfig c, int capacity, DType kvType, int chunk) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("context length must be positive, got " + capacity);
        }
        if (chunk <= 0) {
            throw new IllegalArgumentException("prefill chunk must be positive, got " + chunk);
        }
        if (kvType != DType.F32 && kvType != DType.F16) {
            throw new IllegalArgumentException("KV cache type must be F32 or F16, got " + kvType);
        }
        checkMemory(backend, c, capacity, kvType, chunk);
        this.backend = backend;
        this.chunk = chunk;
        this.vocab = c.vocabSize();
        this.dim = c.dim();
        this.cache = backend.allocateKvCache(c.layers(), capacity, c.kvDim(), kvType);
        this.x = backend.allocate(chunk, c.dim());
        this.xb = backend.allocate(chunk, c.dim());
        this.q = backend.allocate(chunk, c.qDim());
        this.k = backend.allocate(chunk, c.kvDim());
        this.v = backend.allocate(chunk, c.kvDim());
        this.att = backend.allocate(chunk, c.qDim());
        this.proj = backend.allocate(chunk, c.dim());
        this.gate = backend.allocate(chunk, c.ffnDim());
        this.up = backend.allocate(chunk, c.ffnDim());
        this.qkv = new Activations[]{q, k, v};
        this.gateUp = new Activations[]{gate, up};
        this.chunkTokens = new int[chunk];
        this.chunkPositions = new int[chunk];
        ensureHeadRows(1);
    }

    /**
     * Bytes a state of {@code capacity} positions and {@code chunk}-token batches takes: the KV cache,
     * the per-chunk activations and one row of head input and logits.
     */
    public static long bytesNeeded(ModelConfig c, int capacity, DType kvType, int chunk) {
        long kv = 2L * c.layers() * capacity * c.kvDim() * (kvType == DType.F16 ? 2 : 4);
        long perRow = 3L * c.dim() + 2L * c.qDim() + 2L * c.kvDim() + 2L * c.ffnDim();
        long act = 4L * chunk * perRow + 4L * (c.dim() + c.vocabSize());
        return kv + act;
    }

    private static void checkMemory(Backend backend, ModelConfig c, int capacity, DType kvType, int chunk) {
        long needed = bytesNeeded(c, capacity, kvType, chunk);
        long available = backend.availableMemory();
        if (needed > available) {
            // Uncollected garbage counts as used: look once more after a collection before refusing
            // (only on this rare path, never per token).
            System.gc();
            available = backend.availableMemory();
        }
        if (needed > available) {
            throw new dev.offramp.core.backend.InsufficientMemoryException("a context of " + capacity + " positions ("
                    + kvType + " KV cache, " + c.layers() + " layers x " + c.kvDim() + ") with batches of " + chunk
                    + " tokens", needed, available);
        }
    }

    /** Positions this state's KV cache holds. */
    public int capacity() {
        return cache.capacity();
    }

    /** Rows processed per batched step. */
    public int chunk() {
        return chunk;
    }

    /** The KV cache (for exit machinery that fills skipped layers). */
    public KvCache cache() {
        return cache;
    }

    /** Bytes held by the KV cache. */
    public long kvBytes() {
        return cache.byteSize();
    }

    void ensureHeadRows(int rows) {
        if (headIn != null && headIn.rows() >= rows) {
            return;
        }
        int r = Math.min(Math.max(rows, headIn == null ? 1 : headIn.rows() * 2), chunk);
        if (headIn != null) {
            headIn.close();
            logits.close();
        }
        headIn = backend.allocate(r, dim);
        logits = backend.allocate(r, vocab);
    }

    void checkOpen() {
        if (closed) {
            throw new IllegalStateException("forward state is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Activations a : new Activations[] {x, xb, q, k, v, att, proj, gate, up, headIn, logits}) {
            a.close();
        }
        cache.close();
    }
}
