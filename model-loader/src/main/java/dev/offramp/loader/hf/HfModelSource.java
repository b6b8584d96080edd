package dev.offramp.loader.hf;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.core.model.ModelSource;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.tokenizer.Tokenizer;
import dev.offramp.loader.safetensors.SafetensorsCheckpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * An HF model folder opened as a {@link ModelSource}: tensors renamed to GGUF conventions (views
 * over the mapped safetensors, nothing copied, q/k rows left in HF order so the config says
 * {@link dev.offramp.core.model.RopeStyle#NEOX}), metadata = {@code config.json} keys prefixed
 * {@code hf.}. Every tensor the config implies is checked for presence and shape on open.
 *
 * <pre>{@code
 * try (HfModelSource src = HfModelSource.open(Path.of("stories260K-hf"), null)) {
 *     Tensor wq = src.tensors().get("blk.0.attn_q.weight");
 * }
 * }</pre>
 */
public final class HfModelSource implements ModelSource {

    private static final System.Logger LOG = System.getLogger(HfModelSource.class.getName());
    public static final String CONFIG_FILE = "config.json";
    /** Prefix of the {@code config.json} keys in {@link #metadata()}. */
    public static final String METADATA_PREFIX = "hf.";

    private final Path path;
    private final ModelConfig config;
    private final SafetensorsCheckpoint checkpoint;
    private final Map<String, Tensor> tensors;
    private final Optional<Tokenizer> tokenizer;
    private final Map<String, Object> metadata;
    /** Holds the repacked FP8/INT4 weights (see CompressedWeights); closed with the checkpoint. */
    private final Arena arena;

    private HfModelSource(Path path, ModelConfig config, SafetensorsCheckpoint checkpoint, Map<String, Tensor> tensors,
                          Optional<Tokenizer> tokenizer, Map<String, Object> metadata, Arena arena) {
        this.arena = arena;
        this.path = path;
        this.config = config;
        this.checkpoint = checkpoint;
        this.tensors = tensors;
        this.tokenizer = tokenizer;
        this.metadata = metadata;
    }

    /**
     * Opens the folder {@code dir} ({@code config.json} plus {@code model.safetensors} or a sharded
     * index). {@code tokenizerOverride} (may be null) names a tokenizer file to use instead of the
     * folder's own.
     */
    public static HfModelSource open(Path dir, Path tokenizerOverride) throws IOException {
        HfConfig hf = HfConfig.read(dir.resolve(CONFIG_FILE));
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir);
        Arena arena = Arena.ofShared();
        try {
            Map<String, Tensor> byGguf = new LinkedHashMap<>();
            for (Tensor t : CompressedWeights.fold(dir, ckpt.tensors(), arena).values()) {
                if (HfTensorNames.isIgnorable(t.name())) {
                    continue;
                }
                String name = HfTensorNames.toGguf(t.name()).orElseThrow(() -> new HfFormatException(dir,
                        "tensor '" + t.name() + "' is not part of a Llama-family model this runtime knows"));
                byGguf.put(name, new Tensor(name, t.type(), t.shape(), t.data()));
            }
            ModelConfig config = hf.config();
            if (!config.tiedEmbeddings() && !byGguf.containsKey("output.weight")) {
                // Some exports drop lm_head yet leave tie_word_embeddings false; like llama.cpp, use the embedding.
                LOG.log(System.Logger.Level.WARNING, dir + ": no lm_head.weight although tie_word_embeddings is false;"
                        + " using the embedding table as output head");
                config = withTied(config);
            }
            checkTensors(dir, config, byGguf);
            Map<String, Object> md = new LinkedHashMap<>();
            hf.raw().forEach((k, v) -> md.put(METADATA_PREFIX + k, v));
            Optional<Tokenizer> tok = HfTokenizerLookup.find(dir, tokenizerOverride);
            if (tok.isPresent() && tok.get().vocabSize() > config.vocabSize()) {
                // Fewer tokens than embedding rows is common (padded vocabularies); more would index past the table.
                throw new HfFormatException(dir, "the tokenizer has " + tok.get().vocabSize()
                        + " tokens but the model's vocab_size is " + config.vocabSize());
            }
            return new HfModelSource(dir, config, ckpt, Collections.unmodifiableMap(byGguf), tok,
                    Collections.unmodifiableMap(md), arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            ckpt.close();
            throw e;
        }
    }

    private static ModelConfig withTied(ModelConfig c) {
        return new ModelConfig(c.architecture(), c.vocabSize(), c.dim(), c.layers(), c.heads(), c.kvHeads(),
                c.headDim(), c.ffnDim(), c.contextLength(), c.normEps(), c.ropeTheta(), c.ropeDim(), c.ropeStyle(),
                c.ropeScaling(), true, c.attentionBias(), c.attentionOutBias(), c.mlpBias());
    }

    /** Every tensor the config implies must be there with the shape it implies. */
    private static void checkTensors(Path dir, ModelConfig c, Map<String, Tensor> t) throws HfFormatException {
        long dim = c.dim();
        expect(dir, t, "token_embd.weight", c.vocabSize(), dim);
        expect(dir, t, "output_norm.weight", dim);
        if (!c.tiedEmbeddings() || t.containsKey("output.weight")) {
            expect(dir, t, "output.weight", c.vocabSize(), dim);
        }
        for (int l = 0; l < c.layers(); l++) {
            String b = "blk." + l + ".";
            expect(dir, t, b + "attn_norm.weight", dim);
            expect(dir, t, b + "ffn_norm.weight", dim);
            expect(dir, t, b + "attn_q.weight", c.qDim(), dim);
            expect(dir, t, b + "attn_k.weight", c.kvDim(), dim);
            expect(dir, t, b + "attn_v.weight", c.kvDim(), dim);
            expect(dir, t, b + "attn_output.weight", dim, c.qDim());
            expect(dir, t, b + "ffn_gate.weight", c.ffnDim(), dim);
            expect(dir, t, b + "ffn_up.weight", c.ffnDim(), dim);
            expect(dir, t, b + "ffn_down.weight", dim, c.ffnDim());
            if (c.attentionBias()) {
                expect(dir, t, b + "attn_q.bias", c.qDim());
                expect(dir, t, b + "attn_k.bias", c.kvDim());
                expect(dir, t, b + "attn_v.bias", c.kvDim());
            }
            if (c.attentionOutBias()) {
                expect(dir, t, b + "attn_output.bias", dim);
            }
            if (c.mlpBias()) {
                expect(dir, t, b + "ffn_gate.bias", c.ffnDim());
                expect(dir, t, b + "ffn_up.bias", c.ffnDim());
                expect(dir, t, b + "ffn_down.bias", dim);
            }
        }
        String extraLayer = "blk." + c.layers() + ".";
        for (String name : t.keySet()) {
            if (name.startsWith(extraLayer)) {
                throw new HfFormatException(dir, "tensor '" + HfTensorNames.toHf(name).orElse(name)
                        + "' belongs to a layer beyond num_hidden_layers = " + c.layers());
            }
        }
    }

    private static void expect(Path dir, Map<String, Tensor> t, String name, long... shape) throws HfFormatException {
        String hfName = HfTensorNames.toHf(name).orElse(name);
        Tensor x = t.get(name);
        if (x == null) {
            throw new HfFormatException(dir, "tensor '" + hfName + "' is missing");
        }
        if (!Arrays.equals(x.shape(), shape)) {
            throw new HfFormatException(dir, "tensor '" + hfName + "' has shape " + Arrays.toString(x.shape())
                    + " but config.json implies " + Arrays.toString(shape));
        }
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    @Override
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public Optional<Tokenizer> tokenizer() {
        return tokenizer;
    }

    @Override
    public Map<String, Object> metadata() {
        return metadata;
    }

    @Override
    public void close() {
        checkpoint.close();
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
