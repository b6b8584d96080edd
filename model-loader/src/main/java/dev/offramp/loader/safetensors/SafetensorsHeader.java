package dev.offramp.loader.safetensors;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.offramp.core.tensor.DType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and fully validated JSON header of one safetensors file. Validation happens here,
 * before anything is mapped, so a bad file never yields a tensor view over the wrong bytes.
 *
 * <pre>{@code
 * SafetensorsHeader h = SafetensorsHeader.parse(path, jsonBytes, fileSize - 8 - jsonBytes.length);
 * for (SafetensorsHeader.Entry e : h.entries()) System.out.println(e.name() + " " + e.type());
 * }</pre>
 *
 * @param metadata {@code __metadata__} (string to string), empty when absent
 * @param entries  tensors in header order
 */
public record SafetensorsHeader(Map<String, String> metadata, List<Entry> entries) {

    /** safetensors' own reference implementation refuses headers above this size. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /**
     * One tensor's header record. Offsets are relative to the start of the data section.
     *
     * @param name  tensor name
     * @param type  element type
     * @param shape dimensions, outermost first
     * @param begin first byte (inclusive)
     * @param end   last byte (exclusive)
     */
    public record Entry(String name, DType type, long[] shape, long begin, long end) {
        public Entry {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public long byteSize() {
            return end - begin;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Entry e && name.equals(e.name) && type == e.type && Arrays.equals(shape, e.shape)
                    && begin == e.begin && end == e.end;
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Long.hashCode(begin);
        }

        @Override
        public String toString() {
            return name + " " + type + Arrays.toString(shape) + " [" + begin + ", " + end + ")";
        }
    }

    public SafetensorsHeader {
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        entries = List.copyOf(entries);
    }

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    /**
     * Parses and validates a header. {@code dataSize} is the number of bytes after the header; every
     * tensor must lie inside it, match its dtype and shape exactly, and not overlap another.
     */
    public static SafetensorsHeader parse(Path file, byte[] json, long dataSize) throws SafetensorsFormatException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JacksonException e) {
            throw new SafetensorsFormatException(file, "malformed JSON header: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new SafetensorsFormatException(file, "unreadable JSON header: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new SafetensorsFormatException(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonNode> field : root.properties()) {
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                if (!node.isObject()) {
                    throw new SafetensorsFormatException(file, "__metadata__ must be an object of strings");
                }
                for (Map.Entry<String, JsonNode> kv : node.properties()) {
                    if (!kv.getValue().isTextual()) {
                        throw new SafetensorsFormatException(file,
                                "__metadata__ value of '" + kv.getKey() + "' is not a string");
                    }
                    metadata.put(kv.getKey(), kv.getValue().textValue());
                }
                continue;
            }
            entries.add(entry(file, name, node, dataSize));
        }
        checkOverlaps(file, entries);
        return new SafetensorsHeader(metadata, entries);
    }

    private static Entry entry(Path file, String name, JsonNode node, long dataSize) throws SafetensorsFormatException {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) {
            throw new SafetensorsFormatException(file, where + "header entry is not an object");
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new SafetensorsFormatException(file, where + "field 'dtype' missing or not a string");
        }
        DType type = SafetensorsDTypes.fromName(dtypeNode.textValue()).orElseThrow(() ->
                new SafetensorsFormatException(file, where + "unknown or unsupported dtype '" + dtypeNode.textValue() + "'"));
        JsonNode shapeNode = node.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw new SafetensorsFormatException(file, where + "field 'shape' missing or not an array");
        }
        if (shapeNode.size() > 16) {
            throw new SafetensorsFormatException(file, where + "shape has " + shapeNode.size() + " dimensions");
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(file, where + "shape[" + i + "]", shapeNode.get(i));
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException e) {
                throw new SafetensorsFormatException(file, where + "shape " + shapeNode + " overflows");
            }
        }
        JsonNode offsets = node.get("data_offsets");
        if (offsets == null || !offsets.isArray() || offsets.size() != 2) {
            throw new SafetensorsFormatException(file, where + "field 'data_offsets' must be an array [begin, end]");
        }
        long begin = nonNegativeLong(file, where + "data_offsets[0]", offsets.get(0));
        long end = nonNegativeLong(file, where + "data_offsets[1]", offsets.get(1));
        if (end < begin) {
            throw new SafetensorsFormatException(file, where + "data_offsets end " + end + " < begin " + begin);
        }
        if (end > dataSize) {
            throw new SafetensorsFormatException(file, where + "data_offsets [" + begin + ", " + end
                    + ") run past the " + dataSize + " data bytes of the file");
        }
        long expected;
        try {
            expected = type.bytesFor(elements);
        } catch (ArithmeticException e) {
            throw new SafetensorsFormatException(file, where + "byte size of shape " + shapeNode + " overflows");
        }
        if (end - begin != expected) {
            throw new SafetensorsFormatException(file, where + type + " " + shapeNode + " needs " + expected
                    + " bytes but data_offsets span " + (end - begin));
        }
        return new Entry(name, type, shape, begin, end);
    }

    private static long nonNegativeLong(Path file, String what, JsonNode n) throws SafetensorsFormatException {
        if (n == null || !n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < 0) {
            throw new SafetensorsFormatException(file, what + " must be a non-negative integer, got " + n);
        }
        return n.longValue();
    }

    private static void checkOverlaps(Path file, List<Entry> entries) throws SafetensorsFormatException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        Entry prev = null;
        for (Entry e : sorted) {
            if (e.byteSize() == 0) {
                continue;
            }
            if (prev != null && e.begin() < prev.end()) {
                throw new SafetensorsFormatException(file, "tensor '" + e.name() + "' data [" + e.begin() + ", "
                        + e.end() + ") overlaps tensor '" + prev.name() + "' [" + prev.begin() + ", " + prev.end() + ")");
            }
            prev = e;
        }
    }
}
