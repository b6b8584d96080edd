package dev.offramp.loader.inspect;

import dev.offramp.core.model.ModelConfig;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@code offramp inspect} shows about a model file or folder.
 *
 * @param path        the file or folder
 * @param format      {@code gguf}, {@code safetensors}, ...
 * @param formatInfo  format details (e.g. {@code GGUF v3, alignment 32})
 * @param fileBytes   bytes on disk (all files / shards)
 * @param architecture model architecture, or null when unknown
 * @param config      the model config, or null when it could not be derived ({@link #configError} says why)
 * @param configError why there is no config, or null
 * @param tokenizer   tokenizer summary, or null when the model has none
 * @param tensors     every tensor, in file order
 * @param tensorBytes sum of the tensors' bytes
 * @param metadata    format metadata as plain values (arrays summarized), in file order
 */
public record InspectReport(Path path, String format, String formatInfo, long fileBytes, String architecture,
                            ModelConfig config, String configError, TokenizerSummary tokenizer,
                            List<TensorRow> tensors, long tensorBytes, Map<String, Object> metadata) {

    /**
     * One row of the tensor table.
     *
     * @param shape outermost dimension first
     */
    public record TensorRow(String name, String type, long[] shape, long bytes) {
    }

    /**
     * @param model     tokenizer kind ({@code llama} = SentencePiece, {@code gpt2} = byte-level BPE, ...)
     * @param pre       pre-tokenizer name, or null
     * @param vocabSize number of tokens
     * @param bos       BOS id or -1
     * @param eos       EOS id or -1
     * @param merges    BPE merges, 0 if none
     */
    public record TokenizerSummary(String model, String pre, int vocabSize, int bos, int eos, int merges) {
    }
}
