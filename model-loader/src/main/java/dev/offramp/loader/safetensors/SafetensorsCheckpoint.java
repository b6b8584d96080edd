package dev.offramp.loader.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.offramp.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A whole safetensors checkpoint: one file, or several shards tied together by
 * {@code model.safetensors.index.json} ({@code weight_map}: tensor name to shard file). All shards
 * are mapped; tensors from every shard appear in one map.
 *
 * <pre>{@code
 * try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(Path.of("my-model-dir"))) {
 *     ckpt.tensors().forEach((name, t) -> System.out.println(t));
 * }
 * }</pre>
 */
public final class SafetensorsCheckpoint implements AutoCloseable {

    /** The index file name HF uses for sharded checkpoints. */
    public static final String INDEX_FILE = "model.safetensors.index.json";
    /** The file name HF uses for an unsharded checkpoint. */
    public static final String SINGLE_FILE = "model.safetensors";

    private static final long MAX_INDEX_BYTES = 64L << 20;
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION).build();

    private final Path path;
    private final List<SafetensorsFile> files;
    private final Map<String, Tensor> tensors;

    private SafetensorsCheckpoint(Path path, List<SafetensorsFile> files, Map<String, Tensor> tensors) {
        this.path = path;
        this.files = files;
        this.tensors = tensors;
    }

    /**
     * Opens {@code path}: a {@code .safetensors} file, an index JSON, or a folder holding either
     * ({@value #INDEX_FILE} wins over {@value #SINGLE_FILE}; otherwise a single {@code *.safetensors}).
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            Path index = path.resolve(INDEX_FILE);
            if (Files.isRegularFile(index)) {
                return openIndex(index);
            }
            Path single = path.resolve(SINGLE_FILE);
            if (Files.isRegularFile(single)) {
                return openFiles(path, List.of(single));
            }
            List<Path> found;
            try (Stream<Path> s = Files.list(path)) {
                found = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
            }
            if (found.size() == 1) {
                return openFiles(path, found);
            }
            throw new SafetensorsFormatException(path, found.isEmpty()
                    ? "no " + SINGLE_FILE + " or " + INDEX_FILE + " in this folder"
                    : found.size() + " .safetensors files but no " + INDEX_FILE + " to say which tensor is where");
        }
        if (path.getFileName() != null && path.getFileName().toString().endsWith(".json")) {
            return openIndex(path);
        }
        return openFiles(path, List.of(path));
    }

    /** Where a checkpoint could be found in {@code dir} (used by format detection). */
    public static boolean present(Path dir) {
        return Files.isRegularFile(dir.resolve(INDEX_FILE)) || Files.isRegularFile(dir.resolve(SINGLE_FILE));
    }

    private static SafetensorsCheckpoint openIndex(Path index) throws IOException {
        long size = Files.size(index);
        if (size > MAX_INDEX_BYTES) {
            throw new SafetensorsFormatException(index, "index file of " + size + " bytes is implausibly large");
        }
        Map<String, String> weightMap = parseIndex(index, Files.readAllBytes(index));
        Path dir = index.toAbsolutePath().getParent();
        Map<String, Path> shards = new TreeMap<>();
        for (Map.Entry<String, String> e : weightMap.entrySet()) {
            Path shardPath = dir.resolve(e.getValue()).normalize();
            if (!Files.isRegularFile(shardPath)) {
                throw new SafetensorsFormatException(index, "shard '" + e.getValue() + "' (holding tensor '" + e.getKey()
                        + "') is missing");
            }
            shards.putIfAbsent(e.getValue(), shardPath);
        }
        SafetensorsCheckpoint ckpt = openFiles(index, new ArrayList<>(shards.values()));
        try {
            for (Map.Entry<String, String> e : weightMap.entrySet()) {
                Tensor t = ckpt.tensors.get(e.getKey());
                if (t == null || !ckpt.shardOf(e.getKey()).getFileName().toString().equals(
                        Path.of(e.getValue()).getFileName().toString())) {
                    throw new SafetensorsFormatException(index, "tensor '" + e.getKey() + "' is not in shard '"
                            + e.getValue() + "' as weight_map says");
                }
            }
        } catch (IOException | RuntimeException e) {
            ckpt.close();
            throw e;
        }
        return ckpt;
    }

    /**
     * Parses and checks an index's JSON ({@code index} names it in messages; nothing is read from
     * disk): tensor name to shard file name, in file order. Shard names must be plain file names
     * beside the index.
     */
    public static Map<String, String> parseIndex(Path index, byte[] json) throws SafetensorsFormatException {
        if (json.length > MAX_INDEX_BYTES) {
            throw new SafetensorsFormatException(index, "index file of " + json.length + " bytes is implausibly large");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(index, "malformed JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new SafetensorsFormatException(index, "unreadable JSON: " + e.getMessage(), e);
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new SafetensorsFormatException(index, "field 'weight_map' missing or not an object");
        }
        Path dir = Path.of("index-dir");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isTextual()) {
                throw new SafetensorsFormatException(index, "weight_map entry for tensor '" + e.getKey() + "' is not a string");
            }
            String shard = e.getValue().textValue();
            Path shardPath;
            try {
                shardPath = dir.resolve(shard).normalize();
            } catch (java.nio.file.InvalidPathException ex) {
                shardPath = null;
            }
            // A shard name is a file next to the index; anything else (absolute, "..") is refused.
            if (shard.isEmpty() || shardPath == null || !dir.equals(shardPath.getParent())) {
                throw new SafetensorsFormatException(index, "weight_map entry for tensor '" + e.getKey()
                        + "' names shard '" + shard + "' outside the index's folder");
            }
            weightMap.put(e.getKey(), shard);
        }
        if (weightMap.isEmpty()) {
            throw new SafetensorsFormatException(index, "field 'weight_map' is empty");
        }
        return weightMap;
    }

    private Path shardOf(String tensor) {
        for (SafetensorsFile f : files) {
            if (f.tensors().containsKey(tensor)) {
                return f.path();
            }
        }
        return null;
    }

    private static SafetensorsCheckpoint openFiles(Path origin, List<Path> paths) throws IOException {
        List<SafetensorsFile> files = new ArrayList<>();
        try {
            Map<String, Tensor> all = new LinkedHashMap<>();
            for (Path p : paths) {
                SafetensorsFile f = SafetensorsFile.open(p);
                files.add(f);
                for (Map.Entry<String, Tensor> e : f.tensors().entrySet()) {
                    if (all.putIfAbsent(e.getKey(), e.getValue()) != null) {
                        throw new SafetensorsFormatException(p, "tensor '" + e.getKey() + "' also appears in another shard");
                    }
                }
            }
            return new SafetensorsCheckpoint(origin, List.copyOf(files), Collections.unmodifiableMap(all));
        } catch (IOException | RuntimeException e) {
            files.forEach(SafetensorsFile::close);
            throw e;
        }
    }

    /** The file, index or folder this was opened from. */
    public Path path() {
        return path;
    }

    /** The mapped files (one per shard). */
    public List<SafetensorsFile> files() {
        return files;
    }

    /** Every tensor by its name in the checkpoint. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** {@code __metadata__} of every shard merged (first shard wins on conflicts). */
    public Map<String, String> metadata() {
        Map<String, String> m = new LinkedHashMap<>();
        for (SafetensorsFile f : files) {
            f.metadata().forEach(m::putIfAbsent);
        }
        return Collections.unmodifiableMap(m);
    }

    @Override
    public void close() {
        files.forEach(SafetensorsFile::close);
    }
}
