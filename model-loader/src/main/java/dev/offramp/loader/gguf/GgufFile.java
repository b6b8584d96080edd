package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A GGUF model file (v2 or v3, little-endian), memory-mapped once; every tensor is a typed view
 * ({@link Tensor}) over the mapping, so opening copies no tensor data. Tensor shapes are outermost
 * first (GGUF's ne0-first dims reversed). A split model ({@code name-00001-of-00003.gguf} with
 * {@code split.count}) opens as one: all shards are mapped and their tensors merged; the metadata
 * is the first shard's. Closing unmaps everything: tensors must not be used afterwards.
 *
 * <pre>{@code
 * try (GgufFile gguf = GgufFile.open(Path.of("stories260K.gguf"))) {
 *     String arch = gguf.metadata().getString("general.architecture");
 *     Tensor emb = gguf.tensor("token_embd.weight");      // F32 [512, 64]
 *     float first = emb.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0);
 * }
 * }</pre>
 *
 * Instances are immutable and safe to share between threads until closed.
 */
public final class GgufFile implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(GgufFile.class.getName());
    /** llama.cpp's split naming: {@code PREFIX-%05d-of-%05d.gguf}. */
    private static final Pattern SPLIT_NAME = Pattern.compile("(.*)-(\\d{5})-of-(\\d{5})\\.gguf");
    static final String SPLIT_COUNT = "split.count";
    static final String SPLIT_NO = "split.no";
    static final String SPLIT_TENSORS = "split.tensors.count";

    private final String name;
    private final List<Path> paths;
    private final Arena arena;
    private final int version;
    private final int alignment;
    private final GgufMetadata metadata;
    private final List<GgufTensorInfo> infos;
    private final Map<String, Tensor> tensors;

    private GgufFile(String name, List<Path> paths, Arena arena, int version, int alignment, GgufMetadata metadata,
                     List<GgufTensorInfo> infos, Map<String, Tensor> tensors) {
        this.name = name;
        this.paths = List.copyOf(paths);
        this.arena = arena;
        this.version = version;
        this.alignment = alignment;
        this.metadata = metadata;
        this.infos = List.copyOf(infos);
        this.tensors = Collections.unmodifiableMap(tensors);
    }

    /**
     * Maps and parses {@code path}. If it is one shard of a split model (any of them), all shards are
     * opened together.
     *
     * @throws GgufFormatException the file (or a shard) is malformed, or a shard is missing
     * @throws IOException         the file cannot be read
     */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            GgufFile f = openMapped(path, arena);
            LOG.log(System.Logger.Level.DEBUG, () -> "opened " + path + ": GGUF v" + f.version + ", "
                    + f.metadata.entries().size() + " keys, " + f.tensors.size() + " tensors, " + f.paths.size() + " file(s)");
            return f;
        } catch (IOException | RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Parses a GGUF image already in memory (no split handling). {@code displayName} stands for the
     * file in error messages. The segment must stay valid while the returned file is used; closing it
     * does not free the segment.
     */
    public static GgufFile open(MemorySegment image, String displayName) throws GgufFormatException {
        GgufParser.Parsed p = GgufParser.parse(image, displayName, 0);
        return new GgufFile(displayName, List.of(), null, p.version(), p.alignment(), p.metadata(), p.infos(),
                new LinkedHashMap<>(p.tensors()));
    }

    /** {@link #open(MemorySegment, String)} over a byte array (tensors are views of {@code image}). */
    public static GgufFile open(byte[] image, String displayName) throws GgufFormatException {
        return open(MemorySegment.ofArray(image), displayName);
    }

    private static GgufFile openMapped(Path path, Arena arena) throws IOException {
        GgufParser.Parsed first = parseFile(path, arena, 0);
        GgufMetadata md = first.metadata();
        if (!md.contains(SPLIT_COUNT)) {
            return new GgufFile(path.toString(), List.of(path), arena, first.version(), first.alignment(), md,
                    first.infos(), new LinkedHashMap<>(first.tensors()));
        }
        int count = splitInt(path, md, SPLIT_COUNT);
        int no = md.contains(SPLIT_NO) ? splitInt(path, md, SPLIT_NO) : 0;
        if (count < 1 || no < 0 || no >= count) {
            throw new GgufFormatException(path.toString(), SPLIT_COUNT, "split.no " + no + " / split.count " + count
                    + " is inconsistent");
        }
        if (count == 1) {
            return new GgufFile(path.toString(), List.of(path), arena, first.version(), first.alignment(), md,
                    first.infos(), new LinkedHashMap<>(first.tensors()));
        }
        Matcher m = SPLIT_NAME.matcher(path.getFileName().toString());
        if (!m.matches() || Integer.parseInt(m.group(3)) != count || Integer.parseInt(m.group(2)) != no + 1) {
            throw new GgufFormatException(path.toString(), SPLIT_COUNT, "this is shard " + (no + 1) + " of " + count
                    + " but its name does not follow PREFIX-" + String.format("%05d-of-%05d", no + 1, count)
                    + ".gguf, so the other shards cannot be found");
        }
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            paths.add(path.resolveSibling(String.format("%s-%05d-of-%05d.gguf", m.group(1), i + 1, count)));
        }
        List<GgufParser.Parsed> shards = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            Path p = paths.get(i);
            if (i == no) {
                shards.add(first);
                continue;
            }
            if (!Files.exists(p)) {
                throw new GgufFormatException(p.toString(), SPLIT_COUNT, "shard " + (i + 1) + " of " + count
                        + " is missing (opened from " + path.getFileName() + ")");
            }
            GgufParser.Parsed s = parseFile(p, arena, i);
            int sc = s.metadata().contains(SPLIT_COUNT) ? splitInt(p, s.metadata(), SPLIT_COUNT) : -1;
            int sn = s.metadata().contains(SPLIT_NO) ? splitInt(p, s.metadata(), SPLIT_NO) : -1;
            if (sc != count || sn != i) {
                throw new GgufFormatException(p.toString(), SPLIT_NO, "expected shard split.no=" + i + " of split.count="
                        + count + ", found split.no=" + sn + " of split.count=" + sc);
            }
            shards.add(s);
        }
        GgufParser.Parsed head = shards.getFirst();
        Map<String, Tensor> merged = new LinkedHashMap<>();
        List<GgufTensorInfo> infos = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            for (GgufTensorInfo t : shards.get(i).infos()) {
                if (merged.putIfAbsent(t.name(), shards.get(i).tensors().get(t.name())) != null) {
                    throw new GgufFormatException(paths.get(i).toString(), "tensor '" + t.name() + "'",
                            "also present in an earlier shard");
                }
                infos.add(t);
            }
        }
        GgufMetadata headMd = head.metadata();
        if (headMd.contains(SPLIT_TENSORS)) {
            int expected = splitInt(paths.getFirst(), headMd, SPLIT_TENSORS);
            if (expected != merged.size()) {
                throw new GgufFormatException(paths.getFirst().toString(), SPLIT_TENSORS, "says " + expected
                        + " tensors but the " + count + " shards hold " + merged.size());
            }
        }
        return new GgufFile(paths.getFirst().toString(), paths, arena, head.version(), head.alignment(), headMd, infos,
                merged);
    }

    private static int splitInt(Path p, GgufMetadata md, String key) throws GgufFormatException {
        try {
            return md.getInt(key);
        } catch (GgufMetadataException e) {
            throw new GgufFormatException(p.toString(), "metadata '" + key + "'", e.getMessage(), e);
        }
    }

    private static GgufParser.Parsed parseFile(Path path, Arena arena, int shard) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 24) {
                throw new GgufFormatException(path.toString(), "header", "file is " + size
                        + " bytes long, too short for a GGUF header");
            }
            MemorySegment seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            return GgufParser.parse(seg, path.toString(), shard);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(path.toString(), null, "GGUF file not found");
        }
    }

    /** The file name (the first shard's for split models; the display name for in-memory images). */
    public String name() {
        return name;
    }

    /** The mapped files, first shard first (empty for in-memory images). */
    public List<Path> paths() {
        return paths;
    }

    /** GGUF format version (2 or 3). */
    public int version() {
        return version;
    }

    /** Data alignment in bytes ({@code general.alignment}, default 32). */
    public int alignment() {
        return alignment;
    }

    public GgufMetadata metadata() {
        return metadata;
    }

    /** All tensors by name, in file order (shard by shard), as views over the mapped file. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    /** Where each tensor sits in its file, in file order. */
    public List<GgufTensorInfo> tensorInfos() {
        return infos;
    }

    /** The tensor called {@code name}; a {@link NoSuchElementException} naming the file when absent. */
    public Tensor tensor(String name) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException(this.name + ": no tensor named '" + name + "'");
        }
        return t;
    }

    public boolean hasTensor(String name) {
        return tensors.containsKey(name);
    }

    /** Unmaps the file(s). Tensors of this file must not be used afterwards. Idempotent. */
    @Override
    public void close() {
        if (arena != null && arena.scope().isAlive()) {
            try {
                arena.close();
            } catch (IllegalStateException e) {
                // already closed by a racing close(): nothing left to release
            }
        }
    }

    @Override
    public String toString() {
        return "GgufFile[" + name + ", v" + version + ", " + tensors.size() + " tensors]";
    }
}
