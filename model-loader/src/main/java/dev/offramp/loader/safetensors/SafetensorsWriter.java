package dev.offramp.loader.safetensors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.loader.io.AtomicWrite;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes safetensors files: 8-byte little-endian header length, JSON header padded with spaces so
 * the data starts 8-byte aligned, then the tensors back to back in the given order. The file is
 * written to a temporary file in the target folder and moved into place, so a reader never sees a
 * half-written file under the target name.
 *
 * <pre>{@code
 * SafetensorsWriter.write(Path.of("out.safetensors"), Map.of("format", "pt"), List.of(tensorA, tensorB));
 * }</pre>
 */
public final class SafetensorsWriter {

    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final long CHUNK = 1L << 30;

    private SafetensorsWriter() {
    }

    /** Produces a tensor's bytes on demand, so a writer can stream tensors it never holds whole. */
    @FunctionalInterface
    public interface TensorData {
        /** Writes exactly the tensor's byte size to {@code out}. */
        void writeTo(WritableByteChannel out) throws IOException;
    }

    /**
     * One tensor to write.
     *
     * @param name  tensor name
     * @param type  element type (a safetensors dtype)
     * @param shape dimensions, outermost first
     * @param data  the bytes, produced when the writer reaches this tensor
     */
    public record Entry(String name, DType type, long[] shape, TensorData data) {
        public Entry {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(data, "data");
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        long byteSize() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return type.bytesFor(n);
        }
    }

    /** An entry whose bytes are those of an existing tensor view. */
    public static Entry entry(Tensor t) {
        return new Entry(t.name(), t.type(), t.shape(), out -> writeSegment(out, t.data()));
    }

    /** Writes {@code tensors} (views over memory) with {@code metadata} as {@code __metadata__}. */
    public static void write(Path target, Map<String, String> metadata, Collection<Tensor> tensors) throws IOException {
        write(target, metadata, tensors.stream().map(SafetensorsWriter::entry).toList());
    }

    /** Writes {@code entries} in order, streaming each one's bytes from its {@link TensorData}. */
    public static void write(Path target, Map<String, String> metadata, List<Entry> entries) throws IOException {
        byte[] header = header(target, metadata, entries);
        AtomicWrite.write(target, ch -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length);
            writeAll(ch, len);
            writeAll(ch, ByteBuffer.wrap(header));
            for (Entry e : entries) {
                long before = ch.position();
                e.data().writeTo(ch);
                long wrote = ch.position() - before;
                if (wrote != e.byteSize()) {
                    throw new IOException(target + ": tensor '" + e.name() + "' produced " + wrote
                            + " bytes, its " + e.type() + Arrays.toString(e.shape()) + " needs " + e.byteSize());
                }
            }
        });
    }

    /**
     * Writes a checkpoint into {@code dir} the way HF does: {@value SafetensorsCheckpoint#SINGLE_FILE}
     * when everything fits in {@code maxShardBytes}, else shards {@code model-00001-of-0000N.safetensors}
     * (tensors in order, a new shard whenever the next tensor would overflow the current one) plus
     * {@value SafetensorsCheckpoint#INDEX_FILE}. The index is written last, so a reader that finds it
     * finds every shard. Returns the files written.
     */
    public static List<Path> writeCheckpoint(Path dir, Map<String, String> metadata, List<Entry> entries,
                                             long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("maxShardBytes must be positive");
        }
        Files.createDirectories(dir);
        List<List<Entry>> shards = new java.util.ArrayList<>();
        List<Entry> current = new java.util.ArrayList<>();
        long currentBytes = 0;
        long total = 0;
        for (Entry e : entries) {
            long b = e.byteSize();
            if (!current.isEmpty() && currentBytes + b > maxShardBytes) {
                shards.add(current);
                current = new java.util.ArrayList<>();
                currentBytes = 0;
            }
            current.add(e);
            currentBytes += b;
            total += b;
        }
        shards.add(current);
        if (shards.size() == 1) {
            Path single = dir.resolve(SafetensorsCheckpoint.SINGLE_FILE);
            write(single, metadata, shards.get(0));
            return List.of(single);
        }
        List<Path> written = new java.util.ArrayList<>();
        ObjectNode index = JSON.createObjectNode();
        index.putObject("metadata").put("total_size", total);
        ObjectNode weightMap = index.putObject("weight_map");
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format(java.util.Locale.ROOT, "model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path p = dir.resolve(name);
            write(p, metadata, shards.get(i));
            written.add(p);
            for (Entry e : shards.get(i)) {
                weightMap.put(e.name(), name);
            }
        }
        Path indexPath = dir.resolve(SafetensorsCheckpoint.INDEX_FILE);
        byte[] json = JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(index);
        SafetensorsWriter.writeSmallFile(indexPath, json);
        written.add(indexPath);
        return written;
    }

    /** Temp file in the same folder, then moved into place. */
    static void writeSmallFile(Path target, byte[] bytes) throws IOException {
        AtomicWrite.write(target, bytes);
    }

    private static byte[] header(Path target, Map<String, String> metadata, List<Entry> entries) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(m::put);
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Entry e : entries) {
            if (e.name().equals(SafetensorsHeader.METADATA_KEY) || !names.add(e.name())) {
                throw new IOException(target + ": tensor name '" + e.name() + "' is reserved or duplicated");
            }
            String dtype = SafetensorsDTypes.nameOf(e.type()).orElseThrow(() ->
                    new IOException(target + ": tensor '" + e.name() + "' has type " + e.type()
                            + ", which safetensors cannot store"));
            ObjectNode t = root.putObject(e.name());
            t.put("dtype", dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : e.shape()) {
                shape.add(d);
            }
            long end = offset + e.byteSize();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json = JSON.writeValueAsBytes(root);
        // Pad with spaces (valid JSON whitespace) so the data section starts on an 8-byte boundary.
        int padded = (int) ((json.length + 7L) & ~7L);
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    /** Writes all bytes of a segment (of any size, heap or native) to {@code out}. */
    public static void writeSegment(WritableByteChannel out, MemorySegment seg) throws IOException {
        for (long pos = 0; pos < seg.byteSize(); pos += CHUNK) {
            long n = Math.min(CHUNK, seg.byteSize() - pos);
            writeAll(out, seg.asSlice(pos, n).asByteBuffer());
        }
    }

    private static void writeAll(WritableByteChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            out.write(buf);
        }
    }
}
