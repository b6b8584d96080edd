package dev.offramp.core.model;

import dev.offramp.core.backend.Activations;
import dev.offramp.core.backend.Backend;
import dev.offramp.core.backend.RopeTable;
import dev.offramp.core.backend.Weight;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A Llama-family decoder (Llama 2/3, TinyLlama, SmolLM, Mistral without sliding window, Qwen2)
 * bound to one {@link Backend}: every weight is prepared once here, and every op of the forward
 * pass goes through the backend. Immutable and thread-safe: per-sequence data lives in a
 * {@link ForwardState}, so any number of sessions can share one model.
 *
 * <pre>{@code
 * LlamaModel model = LlamaModel.bind(source.config(), source.tensors(), backend);
 * try (ForwardState st = model.newState(512, DType.F32, 64)) {
 *     float[] logits = new float[model.config().vocabSize()];
 *     model.forward(st, new int[] {1}, new int[] {0}, 1, ExitPlan.full(), new int[] {0}, logits);
 * }
 * }</pre>
 *
 * <p>Weights are looked up by GGUF-convention names whatever file they came from; the RoPE style
 * comes from the config (the source decides it), so q/k rows are never permuted here.
 */
public final class LlamaModel {

    /** Architectures whose GGUF/HF layout is the plain pre-norm Llama block. */
    public static final Set<String> ARCHITECTURES = Set.of("llama", "mistral", "qwen2");

    private static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final ModelConfig config;
    private final Backend backend;
    private final Weight tokenEmbedding;
    private final Weight outputNorm;
    private final Weight output;
    private final List<LayerWeights> layers;
    /** Per layer {wq, wk, wv} and {gate, up}: projections of one input, one backend call each. */
    private final Weight[][] qkv;
    private final Weight[][] gateUp;
    private final RopeTable rope;

    private LlamaModel(ModelConfig config, Backend backend, Weight tokenEmbedding, Weight outputNorm,
                       Weight output, List<LayerWeights> layers, RopeTable rope) {
        this.config = config;
        this.backend = backend;
        this.tokenEmbedding = tokenEmbedding;
        this.outputNorm = outputNorm;
        this.output = output;
        this.layers = layers;
        this.rope = rope;
        this.qkv = new Weight[layers.size()][];
        this.gateUp = new Weight[layers.size()][];
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights w = layers.get(l);
            qkv[l] = new Weight[]{w.wq(), w.wk(), w.wv()};
            gateUp[l] = new Weight[]{w.gate(), w.up()};
        }
    }

    /**
     * Checks every tensor's shape against {@code config} and prepares it on {@code backend}.
     *
     * @throws IllegalArgumentException naming the tensor that is missing or mis-shaped, or an
     *                                  unsupported architecture
     */
    public static LlamaModel bind(ModelConfig config, Map<String, Tensor> tensors, Backend backend) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(backend, "backend");
        if (!ARCHITECTURES.contains(config.architecture())) {
            throw new IllegalArgumentException("architecture '" + config.architecture()
                    + "' is not supported (supported: " + ARCHITECTURES + ")");
        }
        Binder b = new Binder(config, tensors, backend);
        int d = config.dim();
        Weight embd = b.matrix("token_embd.weight", config.vocabSize(), d);
        Weight norm = b.vector("output_norm.weight", d);
        Weight out = tensors.containsKey("output.weight")
                ? b.matrix("output.weight", config.vocabSize(), d)
                : embd;
        if (!tensors.containsKey("output.weight") && !config.tiedEmbeddings()) {
            // Some GGUF writers drop output.weight when it equals the embedding without setting a flag;
            // llama.cpp falls back the same way.
            System.getLogger(LlamaModel.class.getName()).log(System.Logger.Level.DEBUG,
                    "no output.weight: using token_embd.weight as the output head");
        }
        LayerWeights[] ls = new LayerWeights[config.layers()];
        for (int l = 0; l < ls.length; l++) {
            String p = "blk." + l + ".";
            int qd = config.qDim();
            int kvd = config.kvDim();
            int f = config.ffnDim();
            ls[l] = new LayerWeights(
                    b.vector(p + "attn_norm.weight", d),
                    b.matrix(p + "attn_q.weight", qd, d),
                    b.matrix(p + "attn_k.weight", kvd, d),
                    b.matrix(p + "attn_v.weight", kvd, d),
                    b.matrix(p + "attn_output.weight", d, qd),
                    b.bias(p + "attn_q.bias", qd, config.attentionBias()),
                    b.bias(p + "attn_k.bias", kvd, config.attentionBias()),
                    b.bias(p + "attn_v.bias", kvd, config.attentionBias()),
                    b.bias(p + "attn_output.bias", d, config.attentionOutBias()),
                    b.vector(p + "ffn_norm.weight", d),
                    b.matrix(p + "ffn_gate.weight", f, d),
                    b.matrix(p + "ffn_up.weight", f, d),
                    b.matrix(p + "ffn_down.weight", d, f),
                    b.bias(p + "ffn_gate.bias", f, config.mlpBias()),
                    b.bias(p + "ffn_up.bias", f, config.mlpBias()),
                    b.bias(p + "ffn_down.bias", d, config.mlpBias()));
        }
        float[] freqFactors = null;
        Tensor rf = tensors.get("rope_freqs.weight");
        if (rf != null) {
            if (rf.type() != DType.F32 || rf.elementCount() != config.ropeDim() / 2) {
                throw new IllegalArgumentException("tensor rope_freqs.weight: expected F32[" + config.ropeDim() / 2
                        + "], got " + rf);
            }
            freqFactors = new float[config.ropeDim() / 2];
            for (int i = 0; i < freqFactors.length; i++) {
                freqFactors[i] = rf.data().getAtIndex(F32_LE, i);
            }
        }
        return new LlamaModel(config, backend, embd, norm, out, List.of(ls), RopeTable.of(config, freqFactors));
    }

    public ModelConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /** The prepared weights of layer {@code l} (for exit machinery that reuses projections). */
    public LayerWeights layer(int l) {
        return layers.get(l);
    }

    public RopeTable rope() {
        return rope;
    }

    /**
     * A fresh per-sequence state: a KV cache of {@code contextLength} positions in {@code kvType}
     * (F32 or F16) and activation buffers for {@code chunk} tokens per batched step.
     */
    public ForwardState newState(int contextLength, DType kvType, int chunk) {
        return new ForwardState(backend, config, contextLength, kvType, chunk);
    }

    /**
     * Runs {@code tokens[0..n)} at {@code positions[0..n)} through the decoder, writing their K/V
     * into {@code state}'s cache, in batched steps of at most {@code state.chunk()} tokens.
     * Attention of the token at position {@code p} reads cache positions {@code 0..p}, so every
     * earlier position must already hold K/V (written by this call or an earlier one).
     *
     * @param plan      how many layers run, and who sees the hidden states
     * @param logitRows ascending indices into the batch whose logits are wanted (often just {@code n - 1})
     * @param logitsOut receives {@code logitRows.length * vocabSize} floats, row after row
     */
    public void forward(ForwardState state, int[] tokens, int[] positions, int n, ExitPlan plan,
                        int[] logitRows, float[] logitsOut) {
        checkBatch(state, tokens, positions, n, logitRows, logitsOut);
        run(state, tokens, null, 0, 0, positions, n, plan, logitRows, logitsOut);
    }

    /**
     * Like {@link #forward}, but starts at layer {@code firstLayer} from hidden states instead of
     * token embeddings: batch row {@code t} enters as row {@code hiddenRow + t} of {@code hidden}
     * (the output of layer {@code firstLayer - 1}, e.g. saved by a {@link LayerObserver}). This is
     * how a speculative verifier runs only the layers a draft skipped, in one batched pass.
     */
    public void forwardFrom(ForwardState state, int firstLayer, Activations hidden, int hiddenRow, int[] positions,
                            int n, ExitPlan plan, int[] logitRows, float[] logitsOut) {
        if (firstLayer < 0 || firstLayer > config.layers()) {
            throw new IllegalArgumentException("first layer " + firstLayer + " outside [0, " + config.layers() + "]");
        }
        if (hidden.cols() != config.dim() || hiddenRow < 0 || hiddenRow + n > hidden.rows()) {
            throw new IllegalArgumentException("hidden states [" + hidden.rows() + ", " + hidden.cols()
                    + "] cannot supply rows " + hiddenRow + ".." + (hiddenRow + n) + " of width " + config.dim());
        }
        checkBatch(state, null, positions, n, logitRows, logitsOut);
        run(state, null, hidden, hiddenRow, firstLayer, positions, n, plan, logitRows, logitsOut);
    }

    private void run(ForwardState state, int[] tokens, Activations hidden, int hiddenRow, int firstLayer,
                     int[] positions, int n, ExitPlan plan, int[] logitRows, float[] logitsOut) {
        int last = plan.lastLayerOf(config.layers());
        int nextLogit = 0;
        for (int start = 0; start < n; start += state.chunk) {
            int m = Math.min(state.chunk, n - start);
            System.arraycopy(positions, start, state.chunkPositions, 0, m);
            if (tokens != null) {
                System.arraycopy(tokens, start, state.chunkTokens, 0, m);
                backend.embed(tokenEmbedding, state.chunkTokens, m, state.x);
            } else {
                backend.copyRows(hidden, hiddenRow + start, state.x, 0, m);
            }
            for (int l = firstLayer; l <= last; l++) {
                block(state, layers.get(l), l, m);
                plan.observer().afterLayer(l, state.x, start, m);
            }
            nextLogit = head(state, start, m, logitRows, nextLogit, logitsOut);
        }
    }

    private void block(ForwardState s, LayerWeights w, int layer, int m) {
        ModelConfig c = config;
        backend.rmsnorm(s.x, w.attnNorm(), c.normEps(), m, s.xb);
        backend.matmul(qkv[layer], s.xb, m, s.qkv);
        addBias(s.q, w.bq(), m);
        addBias(s.k, w.bk(), m);
        addBias(s.v, w.bv(), m);
        backend.rope(s.q, m, c.heads(), c.headDim(), s.chunkPositions, rope);
        backend.rope(s.k, m, c.kvHeads(), c.headDim(), s.chunkPositions, rope);
        backend.kvWrite(s.cache, layer, s.k, s.v, m, s.chunkPositions);
        backend.attention(s.q, s.cache, layer, m, s.chunkPositions, c.heads(), c.kvHeads(), c.headDim(), s.att);
        project(w.wo(), w.bo(), s.att, m, s.proj);
        backend.add(s.x, s.proj, m);

        backend.rmsnorm(s.x, w.ffnNorm(), c.normEps(), m, s.xb);
        backend.matmul(gateUp[layer], s.xb, m, s.gateUp);
        addBias(s.gate, w.bGate(), m);
        addBias(s.up, w.bUp(), m);
        backend.siluMul(s.gate, s.up, m);
        project(w.down(), w.bDown(), s.gate, m, s.proj);
        backend.add(s.x, s.proj, m);
    }

    private void project(Weight w, Weight bias, Activations in, int m, Activations out) {
        backend.matmul(w, in, m, out);
        addBias(out, bias, m);
    }

    private void addBias(Activations out, Weight bias, int m) {
        if (bias != null) {
            backend.addBias(out, bias, m);
        }
    }

    /** Final norm + head for the requested rows of this chunk only; returns the next unserved logit row. */
    private int head(ForwardState s, int start, int m, int[] logitRows, int next, float[] out) {
        int end = next;
        while (end < logitRows.length && logitRows[end] < start + m) {
            end++;
        }
        int want = end - next;
        if (want == 0) {
            return next;
        }
        s.ensureHeadRows(want);
        int cap = s.headIn.rows();
        for (int g = next; g < end; g += cap) {
            int rows = Math.min(cap, end - g);
            for (int i = 0; i < rows; i++) {
                backend.copyRows(s.x, logitRows[g + i] - start, s.headIn, i, 1);
            }
            backend.rmsnorm(s.headIn, outputNorm, config.normEps(), rows, s.headIn);
            backend.matmul(output, s.headIn, rows, s.logits);
            for (int i = 0; i < rows; i++) {
                backend.read(s.logits, i, out, (g + i) * config.vocabSize());
            }
        }
        return end;
    }

    private void checkBatch(ForwardState s, int[] tokens, int[] positions, int n, int[] logitRows, float[] out) {
        s.checkOpen();
        if (s.backend != backend) {
            throw new IllegalArgumentException("forward state belongs to another backend");
        }
        if (n < 0 || (tokens != null && n > tokens.length) || n > positions.length) {
            throw new IllegalArgumentException("batch of " + n + " tokens, but tokens has "
                    + (tokens == null ? "-" : tokens.length) + " and positions " + positions.length);
        }
        int vocab = config.vocabSize();
        for (int i = 0; i < n; i++) {
            if (tokens != null && (tokens[i] < 0 || tokens[i] >= vocab)) {
                throw new IllegalArgumentException("token id " + tokens[i] + " at batch row " + i
                        + " is outside the vocabulary [0, " + vocab + ")");
            }
            if (positions[i] < 0 || positions[i] >= s.capacity()) {
                throw new IllegalArgumentException("position " + positions[i] + " at batch row " + i
                        + " is outside the context [0, " + s.capacity() + ")");
            }
        }
        for (int i = 0; i < logitRows.length; i++) {
            if (logitRows[i] < 0 || logitRows[i] >= n || (i > 0 && logitRows[i] <= logitRows[i - 1])) {
                throw new IllegalArgumentException("logit rows must be ascending batch indices below " + n
                        + ": " + Arrays.toString(logitRows));
            }
        }
        if (out.length < (long) logitRows.length * vocab) {
            throw new IllegalArgumentException("logits buffer holds " + out.length + " floats, needs "
                    + (long) logitRows.length * vocab);
        }
    }

    /** Looks tensors up, checks shapes, prepares each one once (a tensor used twice is prepared once). */
    private static final class Binder {
        private final ModelConfig config;
        private final Map<String, Tensor> tensors;
        private final Backend backend;

        Binder(ModelConfig config, Map<String, Tensor> tensors, Backend backend) {
            this.config = config;
            this.tensors = tensors;
            this.backend = backend;
        }

        Weight matrix(String name, long rows, long cols) {
            Tensor t = require(name);
            if (t.rows() != rows || t.cols() != cols) {
                throw new IllegalArgumentException("tensor " + t + ": expected [" + rows + ", " + cols
                        + "] for " + config.architecture() + " with dim " + config.dim());
            }
            return backend.prepare(t);
        }

        Weight vector(String name, long len) {
            Tensor t = require(name);
            if (t.elementCount() != len || t.rows() != 1) {
                throw new IllegalArgumentException("tensor " + t + ": expected a vector of " + len);
            }
            return backend.prepare(t);
        }

        Weight bias(String name, long len, boolean expected) {
            if (!tensors.containsKey(name)) {
                if (expected) {
                    throw new IllegalArgumentException("tensor " + name + " is missing (the config says the model has biases)");
                }
                return null;
            }
            return vector(name, len);
        }

        private Tensor require(String name) {
            Tensor t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException("tensor " + name + " is missing");
            }
            return t;
        }
    }
}
