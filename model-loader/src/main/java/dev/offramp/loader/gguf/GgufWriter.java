package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.loader.io.AtomicWrite;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes a GGUF file (v3 by default, little-endian): metadata of any value type, then tensor infos,
 * then tensor data, each tensor starting at a multiple of the alignment and padded to it, the
 * layout llama.cpp insists on (it requires each tensor's offset to equal the padded end of the
 * previous one). The file is written to a temporary file in the destination folder and then moved
 * into place, so a reader never sees half a file.
 *
 * <pre>{@code
 * try (GgufFile src = GgufFile.open(in)) {
 *     GgufWriter.copyOf(src)
 *             .put("general.name", GgufValue.string("rewritten"))
 *             .write(out);
 * }
 * }</pre>
 *
 * A writer is a mutable builder used by one thread. Tensor data is read only in {@link #write}.
 */
public final class GgufWriter {

    private record Entry(String name, DType type, long[] shape, MemorySegment data, TensorProducer producer) {
    }

    /**
     * Produces one tensor's bytes while the file is written, so tensors that never exist in memory
     * as a whole (synthetic weights, on-the-fly quantization) can be streamed into the file.
     */
    @FunctionalInterface
    public interface TensorProducer {
        /** Writes exactly the tensor's byte size (no padding) to {@code out}, in order. */
        void writeTo(java.nio.channels.WritableByteChannel out) throws IOException;
    }

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final Map<String, Entry> tensors = new LinkedHashMap<>();
    private int version = 3;

    private GgufWriter() {
    }

    /** An empty writer (GGUF v3, alignment 32 unless {@code general.alignment} is set). */
    public static GgufWriter create() {
        return new GgufWriter();
    }

    /** A writer holding all metadata and tensors of {@code src}, in its order. */
    public static GgufWriter copyOf(GgufFile src) {
        GgufWriter w = new GgufWriter();
        w.version = src.version();
        w.metadata.putAll(src.metadata().entries());
        for (Tensor t : src.tensors().values()) {
            w.addTensor(t);
        }
        return w;
    }

    /** GGUF version to write: 2 or 3 (same layout for little-endian files). */
    public GgufWriter version(int v) {
        if (v != 2 && v != 3) {
            throw new IllegalArgumentException("GGUF version must be 2 or 3, got " + v);
        }
        this.version = v;
        return this;
    }

    public GgufWriter put(String key, GgufValue value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (key.equals("general.alignment")) {
            checkAlignment(value);
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putAll(Map<String, GgufValue> values) {
        values.forEach(this::put);
        return this;
    }

    public GgufWriter remove(String key) {
        metadata.remove(key);
        return this;
    }

    /** Sets {@code general.alignment} (a power of two). */
    public GgufWriter alignment(int bytes) {
        return put("general.alignment", GgufValue.uint32(bytes));
    }

    /** Adds (or replaces, keeping its position) a tensor; its data is copied into the file at {@link #write}. */
    public GgufWriter addTensor(Tensor t) {
        checkTensor(t.name(), t.type());
        Entry e = new Entry(t.name(), t.type(), t.shape(), t.data(), null);
        tensors.put(t.name(), e);
        return this;
    }

    /** Adds a tensor from raw bytes (validated like {@link Tensor}). */
    public GgufWriter addTensor(String name, DType type, long[] shape, MemorySegment data) {
        return addTensor(new Tensor(name, type, shape, data));
    }

    /**
     * Adds an all-zero tensor that is never materialized: the writer leaves a hole in the file
     * (sparse on file systems that support it), so huge synthetic tensors cost no memory or I/O.
     */
    public GgufWriter addZeroTensor(String name, DType type, long[] shape) {
        checkTensor(name, type);
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor " + name + ": negative dimension");
            }
            n = Math.multiplyExact(n, d);
        }
        if (shape.length > 0 && shape[shape.length - 1] % type.blockSize() != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length is not a multiple of " + type.blockSize());
        }
        type.bytesFor(n);
        tensors.put(name, new Entry(name, type, shape.clone(), null, null));
        return this;
    }

    /**
     * Adds a tensor whose bytes {@code producer} writes when {@link #write} reaches it (streamed:
     * never held whole). A producer that writes a different byte count fails the write, naming the tensor.
     */
    public GgufWriter addTensor(String name, DType type, long[] shape, TensorProducer producer) {
        Objects.requireNonNull(producer, "producer");
        addZeroTensor(name, type, shape);
        tensors.put(name, new Entry(name, type, shape.clone(), null, producer));
        return this;
    }

    public GgufWriter removeTensor(String name) {
        tensors.remove(name);
        return this;
    }

    /** ggml's GGML_MAX_NAME is 64 bytes including the terminating NUL: llama.cpp refuses longer names. */
    static final int MAX_NAME_BYTES = 63;

    private static void checkTensor(String name, DType type) {
        if (type.ggmlId() < 0) {
            throw new IllegalArgumentException("tensor " + name + ": " + type + " is not a ggml type; GGUF cannot store it");
        }
        if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name '" + name + "' is longer than " + MAX_NAME_BYTES
                    + " bytes; llama.cpp could not load the file");
        }
    }

    private static void checkAlignment(GgufValue v) {
        if (v.type() != GgufValueType.UINT32) {
            throw new IllegalArgumentException("general.alignment must be UINT32 (llama.cpp rejects other types), got " + v);
        }
        long a = v.asLong();
        if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
            throw new IllegalArgumentException("general.alignment must be a power of two, got " + a);
        }
    }

    private int alignmentValue() {
        GgufValue a = metadata.get("general.alignment");
        return a == null ? GgufParser.DEFAULT_ALIGNMENT : (int) a.asLong();
    }

    /** Writes the file: into a temporary file next to {@code dest}, then moved onto {@code dest}. */
    public void write(Path dest) throws IOException {
        AtomicWrite.write(dest, this::writeTo);
    }

    /** The whole file as bytes (for small files and tests; zero tensors are materialized). */
    public byte[] toBytes() {
        int align = alignmentValue();
        byte[] header = header(align);
        long total = header.length;
        for (Entry e : tensors.values()) {
            total += GgufParser.alignUp(bytesOf(e), align);
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("GGUF image of " + total + " bytes does not fit in a byte array");
        }
        byte[] out = new byte[(int) total];
        System.arraycopy(header, 0, out, 0, header.length);
        MemorySegment dst = MemorySegment.ofArray(out);
        long pos = header.length;
        for (Entry e : tensors.values()) {
            if (e.data != null) {
                MemorySegment.copy(e.data, 0, dst, pos, e.data.byteSize());
            } else if (e.producer != null) {
                produceInto(e, dst.asSlice(pos, bytesOf(e)));
            }
            pos += GgufParser.alignUp(bytesOf(e), align);
        }
        return out;
    }

    private void writeTo(FileChannel ch) throws IOException {
        int align = alignmentValue();
        byte[] header = header(align);
        writeFully(ch, ByteBuffer.wrap(header));
        long pos = header.length;
        for (Entry e : tensors.values()) {
            long bytes = bytesOf(e);
            if (e.data != null) {
                ch.position(pos);
                writeSegment(ch, e.data);
            } else if (e.producer != null) {
                ch.position(pos);
                e.producer.writeTo(ch);
                if (ch.position() - pos != bytes) {
                    throw new IOException("tensor " + e.name + ": producer wrote " + (ch.position() - pos)
                            + " bytes, its " + e.type + " shape needs " + bytes);
                }
            }
            pos += GgufParser.alignUp(bytes, align);
        }
        if (ch.size() < pos) {
            // trailing zero tensor or padding: extend the file (a hole where the file system allows)
            ch.position(pos - 1);
            writeFully(ch, ByteBuffer.wrap(new byte[1]));
        }
    }

    private static void produceInto(Entry e, MemorySegment dst) {
        long[] pos = {0};
        java.nio.channels.WritableByteChannel sink = new java.nio.channels.WritableByteChannel() {
            @Override
            public int write(ByteBuffer src) {
                int n = src.remaining();
                if (pos[0] + n > dst.byteSize()) {
                    throw new IllegalStateException("tensor " + e.name + ": producer wrote more than " + dst.byteSize() + " bytes");
                }
                MemorySegment.copy(MemorySegment.ofBuffer(src), 0, dst, pos[0], n);
                src.position(src.limit());
                pos[0] += n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        try {
            e.producer.writeTo(sink);
        } catch (IOException x) {
            throw new java.io.UncheckedIOException(x);
        }
        if (pos[0] != dst.byteSize()) {
            throw new IllegalStateException("tensor " + e.name + ": producer wrote " + pos[0] + " bytes, needs " + dst.byteSize());
        }
    }

    private static void writeSegment(FileChannel ch, MemorySegment data) throws IOException {
        long bytes = data.byteSize();
        if (data.isNative()) {
            // ByteBuffers stop at 2 GiB: write big native (e.g. mapped) tensors in slices.
            long chunk = 1L << 30;
            for (long off = 0; off < bytes; off += chunk) {
                writeFully(ch, data.asSlice(off, Math.min(chunk, bytes - off)).asByteBuffer());
            }
            return;
        }
        // heap segments over non-byte arrays have no ByteBuffer view: go through a byte buffer
        byte[] buf = new byte[(int) Math.min(bytes, 1 << 20)];
        MemorySegment bufSeg = MemorySegment.ofArray(buf);
        for (long off = 0; off < bytes; off += buf.length) {
            int n = (int) Math.min(buf.length, bytes - off);
            MemorySegment.copy(data, off, bufSeg, 0, n);
            writeFully(ch, ByteBuffer.wrap(buf, 0, n));
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    private static long bytesOf(Entry e) {
        long n = 1;
        for (long d : e.shape) {
            n *= d;
        }
        return e.type.bytesFor(n);
    }

    /** Header, metadata, tensor infos and the padding up to the data section. */
    private byte[] header(int align) {
        Out out = new Out();
        out.u32(GgufParser.MAGIC);
        out.u32(version);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
            out.string(kv.getKey());
            out.u32(kv.getValue().type().id());
            value(out, kv.getValue().type(), kv.getValue().value());
        }
        long offset = 0;
        for (Entry e : tensors.values()) {
            out.string(e.name);
            out.u32(e.shape.length);
            for (int d = e.shape.length - 1; d >= 0; d--) {
                out.u64(e.shape[d]); // ne0 (innermost) first
            }
            out.u32(e.type.ggmlId());
            out.u64(offset);
            offset += GgufParser.alignUp(bytesOf(e), align);
        }
        int pad = (int) (GgufParser.alignUp(out.size(), align) - out.size());
        out.write(new byte[pad], 0, pad);
        return out.toByteArray();
    }

    private static void value(Out out, GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> out.write((Byte) v);
            case UINT16, INT16 -> out.u16((Short) v);
            case UINT32, INT32 -> out.u32((Integer) v);
            case UINT64, INT64 -> out.u64((Long) v);
            case FLOAT32 -> out.u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> out.u64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> out.write((Boolean) v ? 1 : 0);
            case STRING -> out.string((String) v);
            case ARRAY -> array(out, (GgufArray) v);
        }
    }

    private static void array(Out out, GgufArray a) {
        out.u32(a.elementType().id());
        int n = a.size();
        out.u64(n);
        Object vs = a.values();
        switch (a.elementType()) {
            case UINT8, INT8 -> out.write((byte[]) vs, 0, n);
            case UINT16, INT16 -> {
                for (short s : (short[]) vs) {
                    out.u16(s);
                }
            }
            case UINT32, INT32 -> {
                for (int x : (int[]) vs) {
                    out.u32(x);
                }
            }
            case UINT64, INT64 -> {
                for (long x : (long[]) vs) {
                    out.u64(x);
                }
            }
            case FLOAT32 -> {
                for (float x : (float[]) vs) {
                    out.u32(Float.floatToRawIntBits(x));
                }
            }
            case FLOAT64 -> {
                for (double x : (double[]) vs) {
                    out.u64(Double.doubleToRawLongBits(x));
                }
            }
            case BOOL -> {
                for (boolean x : (boolean[]) vs) {
                    out.write(x ? 1 : 0);
                }
            }
            case STRING -> {
                for (String s : (String[]) vs) {
                    out.string(s);
                }
            }
            case ARRAY -> {
                for (GgufArray x : (GgufArray[]) vs) {
                    array(out, x);
                }
            }
        }
    }

    /** Little-endian byte sink. */
    private static final class Out extends ByteArrayOutputStream {
        Out() {
            super(1 << 16);
        }

        void u16(short v) {
            write(v & 0xff);
            write((v >>> 8) & 0xff);
        }

        void u32(int v) {
            for (int i = 0; i < 32; i += 8) {
                write((v >>> i) & 0xff);
            }
        }

        void u64(long v) {
            for (int i = 0; i < 64; i += 8) {
                write((int) (v >>> i) & 0xff);
            }
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            write(b, 0, b.length);
        }
    }

    /** Names of the tensors to be written, in order. */
    public List<String> tensorNames() {
        return new ArrayList<>(tensors.keySet());
    }
}
