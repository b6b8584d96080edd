package dev.offramp.loader.gguf;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The key/value metadata of a GGUF file, in file order, with typed accessors. A missing key or a
 * value of another type than asked for throws {@link GgufMetadataException} naming the file and the
 * key; the {@code ...(key, default)} forms return the default only when the key is absent (a value
 * of the wrong type is still an error).
 *
 * <pre>{@code
 * String arch = md.getString("general.architecture");               // "llama"
 * int layers = md.getInt(arch + ".block_count");
 * float eps = md.getFloat(arch + ".attention.layer_norm_rms_epsilon");
 * String[] tokens = md.getStringArray("tokenizer.ggml.tokens");
 * int bos = md.getInt("tokenizer.ggml.bos_token_id", -1);
 * }</pre>
 */
public final class GgufMetadata {

    private final String file;
    private final Map<String, GgufValue> entries;

    /** @param file display name used in error messages; {@code entries} is copied, order kept. */
    public GgufMetadata(String file, Map<String, GgufValue> entries) {
        this.file = file;
        this.entries = Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    }

    /** The file these came from (for messages). */
    public String file() {
        return file;
    }

    /** All entries in file order (unmodifiable). */
    public Map<String, GgufValue> entries() {
        return entries;
    }

    public Set<String> keys() {
        return entries.keySet();
    }

    public boolean contains(String key) {
        return entries.containsKey(key);
    }

    public Optional<GgufValue> find(String key) {
        return Optional.ofNullable(entries.get(key));
    }

    public GgufValue get(String key) {
        GgufValue v = entries.get(key);
        if (v == null) {
            throw new GgufMetadataException(file, key, "missing");
        }
        return v;
    }

    /** Every value as {@link GgufValue#plain()}, in file order (unmodifiable). */
    public Map<String, Object> plainMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        entries.forEach((k, v) -> m.put(k, v.plain()));
        return Collections.unmodifiableMap(m);
    }

    public String getString(String key) {
        return (String) typed(key, get(key), GgufValueType.STRING).value();
    }

    public String getString(String key, String dflt) {
        GgufValue v = entries.get(key);
        return v == null ? dflt : (String) typed(key, v, GgufValueType.STRING).value();
    }

    public boolean getBool(String key) {
        return (Boolean) typed(key, get(key), GgufValueType.BOOL).value();
    }

    public boolean getBool(String key, boolean dflt) {
        GgufValue v = entries.get(key);
        return v == null ? dflt : (Boolean) typed(key, v, GgufValueType.BOOL).value();
    }

    /** Any integer type whose value fits in a Java {@code int}. */
    public int getInt(String key) {
        return toInt(key, get(key));
    }

    public int getInt(String key, int dflt) {
        GgufValue v = entries.get(key);
        return v == null ? dflt : toInt(key, v);
    }

    /** Any integer type (unsigned widened; a UINT64 above {@code Long.MAX_VALUE} is an error). */
    public long getLong(String key) {
        return toLong(key, get(key));
    }

    public long getLong(String key, long dflt) {
        GgufValue v = entries.get(key);
        return v == null ? dflt : toLong(key, v);
    }

    /** A FLOAT32 or FLOAT64 value (FLOAT64 rounded), or an integer value converted. */
    public float getFloat(String key) {
        return (float) toDouble(key, get(key));
    }

    public float getFloat(String key, float dflt) {
        GgufValue v = entries.get(key);
        return v == null ? dflt : (float) toDouble(key, v);
    }

    public double getDouble(String key) {
        return toDouble(key, get(key));
    }

    public GgufArray getArray(String key) {
        return (GgufArray) typed(key, get(key), GgufValueType.ARRAY).value();
    }

    public Optional<GgufArray> findArray(String key) {
        GgufValue v = entries.get(key);
        return v == null ? Optional.empty() : Optional.of((GgufArray) typed(key, v, GgufValueType.ARRAY).value());
    }

    /** A STRING array (not copied: do not modify). */
    public String[] getStringArray(String key) {
        return (String[]) arrayOf(key, GgufValueType.STRING).values();
    }

    /** A FLOAT32 array (not copied: do not modify). */
    public float[] getFloatArray(String key) {
        return (float[]) arrayOf(key, GgufValueType.FLOAT32).values();
    }

    /** An array of any integer type whose elements all fit in a Java {@code int}, widened into a new array. */
    public int[] getIntArray(String key) {
        GgufArray a = getArray(key);
        if (!a.elementType().isInteger()) {
            throw new GgufMetadataException(file, key, "expected an integer array, found an array of " + a.elementType());
        }
        if (a.elementType() == GgufValueType.INT32) {
            return ((int[]) a.values()).clone();
        }
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            long v = a.getLong(i);
            if (a.elementType() == GgufValueType.UINT64 && v < 0 || v != (int) v) {
                throw new GgufMetadataException(file, key, "element " + i + " = " + Long.toUnsignedString(v)
                        + " does not fit in an int");
            }
            out[i] = (int) v;
        }
        return out;
    }

    private GgufArray arrayOf(String key, GgufValueType element) {
        GgufArray a = getArray(key);
        if (a.elementType() != element) {
            throw new GgufMetadataException(file, key, "expected an array of " + element + ", found an array of "
                    + a.elementType());
        }
        return a;
    }

    private GgufValue typed(String key, GgufValue v, GgufValueType t) {
        if (v.type() != t) {
            throw new GgufMetadataException(file, key, "expected " + t + ", found " + v);
        }
        return v;
    }

    private long toLong(String key, GgufValue v) {
        if (!v.type().isInteger()) {
            throw new GgufMetadataException(file, key, "expected an integer, found " + v);
        }
        long x = v.asLong();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw new GgufMetadataException(file, key, "value " + Long.toUnsignedString(x) + " is too large");
        }
        return x;
    }

    private int toInt(String key, GgufValue v) {
        long x = toLong(key, v);
        if (x != (int) x) {
            throw new GgufMetadataException(file, key, "value " + x + " does not fit in an int");
        }
        return (int) x;
    }

    private double toDouble(String key, GgufValue v) {
        if (v.type() == GgufValueType.FLOAT32 || v.type() == GgufValueType.FLOAT64 || v.type().isInteger()) {
            return v.asDouble();
        }
        throw new GgufMetadataException(file, key, "expected a number, found " + v);
    }

    @Override
    public String toString() {
        return "GgufMetadata[" + file + ", " + entries.size() + " keys]";
    }
}
