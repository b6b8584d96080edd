package dev.offramp.loader.safetensors;

import dev.offramp.core.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One memory-mapped safetensors file. Tensors are views into the mapping: opening copies no
 * tensor data, and closing unmaps the file (the views must not be used afterwards).
 *
 * <pre>{@code
 * try (SafetensorsFile f = SafetensorsFile.open(Path.of("model.safetensors"))) {
 *     Tensor emb = f.tensors().get("model.embed_tokens.weight");
 * }
 * }</pre>
 */
public final class SafetensorsFile implements AutoCloseable {

    private final Path path;
    private final Arena arena;
    private final SafetensorsHeader header;
    private final Map<String, Tensor> tensors;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    private SafetensorsFile(Path path, Arena arena, SafetensorsHeader header, Map<String, Tensor> tensors) {
        this.path = path;
        this.arena = arena;
        this.header = header;
        this.tensors = tensors;
    }

    /** Reads and validates the header, then maps the file. Nothing is mapped if the header is bad. */
    public static SafetensorsFile open(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafetensorsFormatException(path, "file has " + size
                        + " bytes, less than the 8-byte header length prefix");
            }
            ByteBuffer prefix = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, prefix, 0, path);
            long headerLen = prefix.getLong(0);
            checkHeaderLength(path, headerLen, size);
            ByteBuffer json = ByteBuffer.allocate((int) headerLen);
            readFully(ch, json, 8, path);
            long dataStart = 8 + headerLen;
            SafetensorsHeader header = SafetensorsHeader.parse(path, json.array(), size - dataStart);

            Arena arena = Arena.ofShared();
            try {
                MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                Map<String, Tensor> tensors = new LinkedHashMap<>();
                for (SafetensorsHeader.Entry e : header.entries()) {
                    MemorySegment data = all.asSlice(dataStart + e.begin(), e.byteSize());
                    tensors.put(e.name(), new Tensor(e.name(), e.type(), e.shape(), data));
                }
                return new SafetensorsFile(path, arena, header, Collections.unmodifiableMap(tensors));
            } catch (IOException | RuntimeException e) {
                arena.close();
                throw e;
            }
        }
    }

    /**
     * Parses a safetensors image already in memory; tensors are views of {@code image}, which must
     * stay valid while they are used (closing the result does not free it). {@code displayName}
     * stands for the file in messages.
     */
    public static SafetensorsFile open(MemorySegment image, Path displayName) throws SafetensorsFormatException {
        long size = image.byteSize();
        if (size < 8) {
            throw new SafetensorsFormatException(displayName, "file has " + size
                    + " bytes, less than the 8-byte header length prefix");
        }
        long headerLen = image.get(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        checkHeaderLength(displayName, headerLen, size);
        byte[] json = image.asSlice(8, headerLen).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        long dataStart = 8 + headerLen;
        SafetensorsHeader header = SafetensorsHeader.parse(displayName, json, size - dataStart);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (SafetensorsHeader.Entry e : header.entries()) {
            tensors.put(e.name(), new Tensor(e.name(), e.type(), e.shape(), image.asSlice(dataStart + e.begin(), e.byteSize())));
        }
        return new SafetensorsFile(displayName, null, header, Collections.unmodifiableMap(tensors));
    }

    private static void checkHeaderLength(Path path, long headerLen, long size) throws SafetensorsFormatException {
        if (headerLen < 2 || headerLen > size - 8) {
            throw new SafetensorsFormatException(path, "header length " + Long.toUnsignedString(headerLen)
                    + " does not fit the file (" + size + " bytes)");
        }
        if (headerLen > SafetensorsHeader.MAX_HEADER_BYTES) {
            throw new SafetensorsFormatException(path, "header length " + headerLen + " exceeds the "
                    + SafetensorsHeader.MAX_HEADER_BYTES + "-byte limit");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path path) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new SafetensorsFormatException(path, "unexpected end of file at byte " + pos);
            }
            pos += n;
        }
    }

    public Path path() {
        return path;
    }

    /** The validated header (tensor table and {@code __metadata__}). */
    public SafetensorsHeader header() {
        return header;
    }

    /** {@code __metadata__} entries. */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** Tensors by their name in the file, in header order. */
    public Map<String, Tensor> tensors() {
        return tensors;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true) && arena != null) {
            arena.close();
        }
    }
}
