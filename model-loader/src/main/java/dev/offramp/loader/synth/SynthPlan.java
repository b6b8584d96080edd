package dev.offramp.loader.synth;

import dev.offramp.core.model.ModelConfig;
import dev.offramp.loader.gguf.GgufValue;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything a synthetic GGUF will contain except the weight bytes: its tensor table and metadata.
 * Making a plan costs nothing, so the shapes of multi-GB models can be checked without writing them.
 *
 * <pre>{@code
 * SynthPlan p = SyntheticModel.plan(options);
 * System.out.println(p.parameterCount() + " parameters, " + p.dataBytes() + " bytes");
 * }</pre>
 *
 * @param options  what was asked for
 * @param config   the model the file describes (llama arch, NORMAL RoPE as llama GGUFs store q/k)
 * @param metadata GGUF key/values in file order
 * @param tensors  tensors in file order
 */
public record SynthPlan(SynthOptions options, ModelConfig config, Map<String, GgufValue> metadata,
                        List<PlannedTensor> tensors) {

    public SynthPlan {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        tensors = List.copyOf(tensors);
    }

    /** Total elements of every tensor. */
    public long parameterCount() {
        return tensors.stream().mapToLong(PlannedTensor::elements).sum();
    }

    /** Bytes of tensor data (without alignment padding). */
    public long dataBytes() {
        return tensors.stream().mapToLong(PlannedTensor::byteSize).sum();
    }

    public PlannedTensor tensor(String name) {
        return tensors.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no tensor " + name + " in the plan"));
    }
}
