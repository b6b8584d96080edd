package dev.offramp.loader.tokenizer;

import dev.offramp.loader.gguf.GgufArray;
import dev.offramp.loader.gguf.GgufValue;

import java.util.List;
import java.util.Map;

/**
 * Reads tokenizer fields from a metadata map whose values may be GGUF values, their plain forms
 * ({@link GgufValue#plain()}: boxed scalars, {@link GgufArray}), Java arrays or lists, so that any
 * reader's map works. Wrong types fail naming the source and key.
 */
final class MetadataValues {
    private final Map<String, ?> md;
    private final String source;

    MetadataValues(Map<String, ?> md, String source) {
        this.md = md;
        this.source = source;
    }

    private Object raw(String key) {
        Object v = md.get(key);
        return v instanceof GgufValue g ? g.value() : v;
    }

    boolean has(String key) {
        return md.containsKey(key);
    }

    String string(String key, String dflt) {
        Object v = raw(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof String s) {
            return s;
        }
        throw new TokenizerFormatException(source, key, "expected a string, got " + v.getClass().getSimpleName());
    }

    Boolean bool(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new TokenizerFormatException(source, key, "expected a bool, got " + v.getClass().getSimpleName());
    }

    /**
     * An id as llama.cpp reads it (uint32). 0xFFFFFFFF, which converters write for "none", comes back
     * as -1; other values beyond int range as -2 (invalid, reported by the builder).
     */
    Integer id(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Number n) {
            long l = n.longValue();
            if (l < 0 && !(v instanceof Long)) {
                l &= 0xFFFFFFFFL; // a uint32 held in an int
            }
            if (l == 0xFFFFFFFFL || l == -1) {
                return -1;
            }
            return l > Integer.MAX_VALUE || l < 0 ? -2 : (int) l;
        }
        throw new TokenizerFormatException(source, key, "expected an integer, got " + v.getClass().getSimpleName());
    }

    String[] strings(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (v instanceof GgufArray a) {
            try {
                return a.strings();
            } catch (RuntimeException e) {
                throw new TokenizerFormatException(source, key, "expected an array of strings, got " + a.elementType(), e);
            }
        }
        if (v instanceof String[] s) {
            return s;
        }
        if (v instanceof List<?> l) {
            String[] out = new String[l.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(l.get(i) instanceof String s)) {
                    throw new TokenizerFormatException(source, key, "element " + i + " is not a string");
                }
                out[i] = s;
            }
            return out;
        }
        throw new TokenizerFormatException(source, key, "expected an array of strings, got " + v.getClass().getSimpleName());
    }

    float[] floats(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (v instanceof GgufArray a) {
            Object vals = a.values();
            if (vals instanceof float[] f) {
                return f;
            }
            if (vals instanceof int[] ints) { // llama.cpp accepts INT32 scores
                float[] f = new float[ints.length];
                for (int i = 0; i < f.length; i++) {
                    f[i] = ints[i];
                }
                return f;
            }
            throw new TokenizerFormatException(source, key, "expected FLOAT32 or INT32 array, got " + a.elementType());
        }
        if (v instanceof float[] f) {
            return f;
        }
        if (v instanceof List<?> l) {
            float[] f = new float[l.size()];
            for (int i = 0; i < f.length; i++) {
                f[i] = ((Number) l.get(i)).floatValue();
            }
            return f;
        }
        throw new TokenizerFormatException(source, key, "expected an array of numbers, got " + v.getClass().getSimpleName());
    }

    int[] ints(String key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (v instanceof GgufArray a) {
            if (a.values() instanceof int[] i) {
                return i;
            }
            throw new TokenizerFormatException(source, key, "expected an INT32 array, got " + a.elementType());
        }
        if (v instanceof int[] i) {
            return i;
        }
        if (v instanceof List<?> l) {
            int[] out = new int[l.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = ((Number) l.get(i)).intValue();
            }
            return out;
        }
        throw new TokenizerFormatException(source, key, "expected an array of integers, got " + v.getClass().getSimpleName());
    }
}
