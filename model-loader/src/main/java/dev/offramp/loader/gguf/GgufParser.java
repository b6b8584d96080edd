package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses one GGUF image (header, metadata, tensor infos) from a memory segment and slices the
 * tensors out of it. Every count and length is checked against the bytes that remain BEFORE
 * anything is allocated, so a corrupt file costs at most about its own size in heap.
 */
final class GgufParser {

    static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Nested arrays deeper than this are refused (llama.cpp writes at most one level). */
    static final int MAX_ARRAY_DEPTH = 8;

    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The parsed image. */
    record Parsed(int version, int alignment, GgufMetadata metadata, List<GgufTensorInfo> infos,
                  Map<String, Tensor> tensors, long dataOffset) {
    }

    private final MemorySegment seg;
    private final String file;
    private final long size;
    private final int shard;
    private long pos;
    /**
     * Heap the parsed metadata and tensor infos may take. Counts are already bounded by the file
     * size, but a corrupt count in a multi-GB file could still ask for more heap than there is
     * (Java objects are larger than their file encoding), so parsing stops with a clear error first.
     */
    private long heapBudget;

    private GgufParser(MemorySegment seg, String file, int shard) {
        this.seg = seg;
        this.file = file;
        this.size = seg.byteSize();
        this.shard = shard;
        this.heapBudget = Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 2);
    }

    /** Test hook: parse with a given heap budget. */
    static Parsed parse(MemorySegment seg, String file, int shard, long heapBudget) throws GgufFormatException {
        GgufParser p = new GgufParser(seg, file, shard);
        p.heapBudget = heapBudget;
        return p.parse();
    }

    private void charge(long bytes, String field) throws GgufFormatException {
        heapBudget -= bytes;
        if (heapBudget < 0) {
            throw new GgufFormatException(file, field, "the metadata and tensor infos would need more than half of "
                    + "the Java heap: counts or lengths are corrupt (or run with a larger -Xmx)");
        }
    }

    static Parsed parse(MemorySegment seg, String file, int shard) throws GgufFormatException {
        return new GgufParser(seg, file, shard).parse();
    }

    private Parsed parse() throws GgufFormatException {
        if (size < 4) {
            throw new GgufFormatException(file, "magic", "file is " + size + " bytes long, too short to be GGUF");
        }
        int magic = seg.get(U32, 0);
        if (magic != MAGIC) {
            throw new GgufFormatException(file, "magic", String.format(
                    "expected 'GGUF' (47 47 55 46), found %02x %02x %02x %02x: not a GGUF file",
                    magic & 0xff, (magic >>> 8) & 0xff, (magic >>> 16) & 0xff, magic >>> 24));
        }
        pos = 4;
        int version = u32("version");
        if (version != 2 && version != 3) {
            if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
                throw new GgufFormatException(file, "version", "big-endian GGUF files are not supported");
            }
            throw new GgufFormatException(file, "version", "unsupported GGUF version " + Integer.toUnsignedString(version)
                    + " (supported: 2, 3)");
        }
        long tensorCount = u64("tensor_count");
        long kvCount = u64("metadata_kv_count");
        // Cheapest possible record: key length + type + 1 value byte; tensor info: name length,
        // n_dims, type, offset.
        checkCount("metadata_kv_count", kvCount, 13);
        checkCount("tensor_count", tensorCount, 24);

        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            charge(64, "metadata_kv_count"); // value object and map entry
            String key = string("metadata key #" + i);
            int typeId = u32("metadata '" + key + "' type");
            GgufValueType type = GgufValueType.fromId(typeId).orElseThrow(() -> new GgufFormatException(file,
                    "metadata '" + key + "' type", "unknown value type id " + Integer.toUnsignedString(typeId)));
            GgufValue v = value(type, "metadata '" + key + "'", 0);
            if (kv.putIfAbsent(key, v) != null) {
                throw new GgufFormatException(file, "metadata '" + key + "'", "key appears twice");
            }
        }
        GgufMetadata metadata = new GgufMetadata(file, kv);

        int alignment = DEFAULT_ALIGNMENT;
        GgufValue al = kv.get("general.alignment");
        if (al != null) {
            if (al.type() != GgufValueType.UINT32) {
                throw new GgufFormatException(file, "metadata 'general.alignment'", "must be UINT32, found " + al);
            }
            long a = al.asLong();
            if (a == 0 || (a & (a - 1)) != 0 || a > (1 << 30)) {
                throw new GgufFormatException(file, "metadata 'general.alignment'",
                        a + " is not a power of two in [1, 2^30]");
            }
            alignment = (int) a;
        }

        List<GgufTensorInfo> infos = new ArrayList<>((int) Math.min(tensorCount, 4096));
        Map<String, GgufTensorInfo> byName = new HashMap<>();
        for (long i = 0; i < tensorCount; i++) {
            charge(256, "tensor_count"); // info record, Tensor view, map entries
            GgufTensorInfo info = tensorInfo(i, alignment);
            if (byName.putIfAbsent(info.name(), info) != null) {
                throw new GgufFormatException(file, "tensor '" + info.name() + "'", "name appears twice");
            }
            infos.add(info);
        }

        long dataOffset = alignUp(pos, alignment);
        long dataSize = size - dataOffset; // negative when the padding after the infos is cut off
        List<GgufTensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(GgufTensorInfo::offset));
        long prevEnd = 0;
        String prevName = null;
        for (GgufTensorInfo t : sorted) {
            if (t.byteSize() == 0) {
                continue;
            }
            if (t.offset() > dataSize || t.byteSize() > dataSize - t.offset()) {
                throw new GgufFormatException(file, "tensor '" + t.name() + "' offset", "data [" + t.offset() + ", "
                        + (t.offset() + t.byteSize()) + ") of the data section ends past the end of the file (data section at "
                        + dataOffset + " holds " + Math.max(0, dataSize) + " bytes): file truncated or offset corrupt");
            }
            if (t.offset() < prevEnd) {
                throw new GgufFormatException(file, "tensor '" + t.name() + "' offset", "data at " + t.offset()
                        + " overlaps tensor '" + prevName + "' which ends at " + prevEnd);
            }
            prevEnd = t.offset() + t.byteSize();
            prevName = t.name();
        }

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (int i = 0; i < infos.size(); i++) {
            GgufTensorInfo t = infos.get(i);
            t = new GgufTensorInfo(t.name(), t.type(), t.shape(), t.offset(), dataOffset + t.offset(), t.byteSize(), shard);
            infos.set(i, t);
            MemorySegment data = t.byteSize() == 0 ? seg.asSlice(0, 0)
                    : seg.asSlice(dataOffset + t.offset(), t.byteSize());
            try {
                tensors.put(t.name(), new Tensor(t.name(), t.type(), t.shape(), data));
            } catch (IllegalArgumentException | ArithmeticException e) {
                throw new GgufFormatException(file, "tensor '" + t.name() + "'", e.getMessage(), e);
            }
        }
        return new Parsed(version, alignment, metadata, List.copyOf(infos), tensors, dataOffset);
    }

    private GgufTensorInfo tensorInfo(long index, int alignment) throws GgufFormatException {
        String name = string("tensor #" + index + " name");
        String field = "tensor '" + name + "'";
        int nDims = u32(field + " n_dims");
        if (nDims < 0 || nDims > MAX_DIMS) {
            throw new GgufFormatException(file, field + " n_dims", Integer.toUnsignedString(nDims)
                    + " dimensions; ggml allows at most " + MAX_DIMS);
        }
        long[] shape = new long[nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            long ne = u64(field + " ne[" + d + "]");
            if (ne < 0) {
                throw new GgufFormatException(file, field + " ne[" + d + "]", "dimension " + Long.toUnsignedString(ne)
                        + " is negative as int64");
            }
            shape[nDims - 1 - d] = ne; // ne0 is the innermost (contiguous) dimension
            try {
                elements = Math.multiplyExact(elements, ne);
            } catch (ArithmeticException e) {
                throw new GgufFormatException(file, field + " ne", "element count overflows int64");
            }
        }
        int typeId = u32(field + " type");
        DType type = DType.fromGgmlId(typeId).orElseThrow(() -> new GgufFormatException(file, field + " type",
                "unknown ggml type id " + Integer.toUnsignedString(typeId) + " (this runtime knows "
                        + knownTypes() + ")"));
        long offset = u64(field + " offset");
        if (nDims > 0 && shape[nDims - 1] % type.blockSize() != 0 || nDims == 0 && type.blockSize() != 1) {
            throw new GgufFormatException(file, field + " ne[0]", "row length " + (nDims == 0 ? 1 : shape[nDims - 1])
                    + " is not a multiple of " + type + "'s block size " + type.blockSize());
        }
        long bytes;
        try {
            bytes = type.bytesFor(elements);
        } catch (ArithmeticException e) {
            throw new GgufFormatException(file, field, "byte size overflows int64");
        }
        if (offset < 0 || offset % alignment != 0) {
            throw new GgufFormatException(file, field + " offset", "offset " + Long.toUnsignedString(offset)
                    + " is not a multiple of the alignment " + alignment);
        }
        return new GgufTensorInfo(name, type, shape, offset, -1, bytes, shard);
    }

    private static String knownTypes() {
        StringBuilder sb = new StringBuilder();
        for (DType t : DType.values()) {
            if (t.ggmlId() >= 0) {
                sb.append(sb.isEmpty() ? "" : ", ").append(t).append('=').append(t.ggmlId());
            }
        }
        return sb.toString();
    }

    private GgufValue value(GgufValueType type, String field, int depth) throws GgufFormatException {
        return switch (type) {
            case UINT8, INT8 -> new GgufValue(type, seg.get(ValueLayout.JAVA_BYTE, advance(1, field)));
            case UINT16, INT16 -> new GgufValue(type, seg.get(U16, advance(2, field)));
            case UINT32, INT32 -> new GgufValue(type, seg.get(U32, advance(4, field)));
            case UINT64, INT64 -> new GgufValue(type, seg.get(U64, advance(8, field)));
            case FLOAT32 -> new GgufValue(type, seg.get(F32, advance(4, field)));
            case FLOAT64 -> new GgufValue(type, seg.get(F64, advance(8, field)));
            case BOOL -> new GgufValue(type, seg.get(ValueLayout.JAVA_BYTE, advance(1, field)) != 0);
            case STRING -> new GgufValue(type, string(field));
            case ARRAY -> new GgufValue(type, array(field, depth + 1));
        };
    }

    private GgufArray array(String field, int depth) throws GgufFormatException {
        if (depth > MAX_ARRAY_DEPTH) {
            throw new GgufFormatException(file, field, "arrays nested deeper than " + MAX_ARRAY_DEPTH);
        }
        int typeId = u32(field + " array type");
        GgufValueType et = GgufValueType.fromId(typeId).orElseThrow(() -> new GgufFormatException(file,
                field + " array type", "unknown value type id " + Integer.toUnsignedString(typeId)));
        long count = u64(field + " array length");
        checkCount(field + " array length", count, et.minBytes());
        if (count > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(file, field + " array length", count + " elements: too many for one array");
        }
        int n = (int) count;
        long elementHeap = switch (et) {
            case STRING, ARRAY -> 8; // the reference; the element itself is charged as it is read
            case UINT16, INT16 -> 2;
            case UINT32, INT32, FLOAT32 -> 4;
            case UINT64, INT64, FLOAT64 -> 8;
            default -> 1;
        };
        charge(32 + elementHeap * n, field + " array length");
        Object values = switch (et) {
            case UINT8, INT8 -> {
                byte[] a = new byte[n];
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, advance(n, field), a, 0, n);
                yield a;
            }
            case UINT16, INT16 -> {
                short[] a = new short[n];
                MemorySegment.copy(seg, U16, advance(2L * n, field), a, 0, n);
                yield a;
            }
            case UINT32, INT32 -> {
                int[] a = new int[n];
                MemorySegment.copy(seg, U32, advance(4L * n, field), a, 0, n);
                yield a;
            }
            case UINT64, INT64 -> {
                long[] a = new long[n];
                MemorySegment.copy(seg, U64, advance(8L * n, field), a, 0, n);
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[n];
                MemorySegment.copy(seg, F32, advance(4L * n, field), a, 0, n);
                yield a;
            }
            case FLOAT64 -> {
                double[] a = new double[n];
                MemorySegment.copy(seg, F64, advance(8L * n, field), a, 0, n);
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[n];
                long p = advance(n, field);
                for (int i = 0; i < n; i++) {
                    a[i] = seg.get(ValueLayout.JAVA_BYTE, p + i) != 0;
                }
                yield a;
            }
            case STRING -> {
                String[] a = new String[n];
                for (int i = 0; i < n; i++) {
                    a[i] = string(field);
                }
                yield a;
            }
            case ARRAY -> {
                GgufArray[] a = new GgufArray[n];
                for (int i = 0; i < n; i++) {
                    a[i] = array(field, depth + 1);
                }
                yield a;
            }
        };
        return new GgufArray(et, values);
    }

    /** Rejects a count whose elements (at {@code minBytes} each) could not fit in the rest of the file. */
    private void checkCount(String field, long count, int minBytes) throws GgufFormatException {
        long remaining = size - pos;
        if (count < 0 || count > remaining / minBytes) {
            throw new GgufFormatException(file, field, Long.toUnsignedString(count) + " is absurd: at least "
                    + minBytes + " bytes each, but only " + remaining + " bytes remain in the file");
        }
    }

    private String string(String field) throws GgufFormatException {
        long len = u64(field + " string length");
        long remaining = size - pos;
        if (len < 0 || len > remaining) {
            throw new GgufFormatException(file, field, "string length " + Long.toUnsignedString(len)
                    + " exceeds the " + remaining + " bytes left in the file");
        }
        if (len > Integer.MAX_VALUE - 8) {
            throw new GgufFormatException(file, field, "string length " + len + " is too large");
        }
        if (len == 0) {
            return "";
        }
        charge(48 + 2 * len, field);
        byte[] b = new byte[(int) len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, advance(len, field), b, 0, (int) len);
        return new String(b, StandardCharsets.UTF_8);
    }

    private int u32(String field) throws GgufFormatException {
        return seg.get(U32, advance(4, field));
    }

    private long u64(String field) throws GgufFormatException {
        return seg.get(U64, advance(8, field));
    }

    /** Reserves {@code n} bytes at the cursor and returns where they start. */
    private long advance(long n, String field) throws GgufFormatException {
        if (n > size - pos) {
            throw new GgufFormatException(file, field, "file truncated: needs " + n + " bytes at offset " + pos
                    + " but the file is " + size + " bytes long");
        }
        long p = pos;
        pos += n;
        return p;
    }

    static long alignUp(long x, long alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }
}
