package dev.offramp.loader.fuzz;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Mutates JSON documents two ways: on the tree (a value replaced by one of the wrong type or an
 * absurd size, a key removed or renamed) so that the reader's field checks are reached, and on the
 * bytes (flips, cuts, inserts, duplicated keys, deep nesting) so that the JSON layer is too.
 */
final class JsonMutator {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private JsonMutator() {
    }

    static JsonNode parse(byte[] json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("seed document is not JSON", e);
        }
    }

    /** A mutated copy of {@code seed} as bytes. */
    static byte[] mutate(JsonNode seed, Random rnd) {
        JsonNode doc = seed.deepCopy();
        int rounds = 1 + rnd.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            doc = mutateTree(doc, rnd);
        }
        byte[] b;
        try {
            b = JSON.writeValueAsBytes(doc);
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return switch (rnd.nextInt(10)) {
            case 0, 1 -> Bytes.mutate(b, rnd, b.length);
            case 2 -> duplicateKey(b, rnd);
            case 3 -> rnd.nextInt(8) == 0 ? deepNesting(rnd) : b;
            default -> b;
        };
    }

    private static JsonNode mutateTree(JsonNode doc, Random rnd) {
        List<JsonNode> containers = new ArrayList<>();
        collect(doc, containers);
        if (containers.isEmpty()) {
            return wrongValue(rnd);
        }
        JsonNode c = containers.get(rnd.nextInt(containers.size()));
        if (c instanceof ObjectNode o && !o.isEmpty()) {
            List<String> keys = new ArrayList<>();
            o.fieldNames().forEachRemaining(keys::add);
            String k = keys.get(rnd.nextInt(keys.size()));
            switch (rnd.nextInt(6)) {
                case 0 -> o.remove(k);
                case 1 -> {
                    JsonNode v = o.remove(k);
                    o.set(k + (rnd.nextBoolean() ? "_" : "").repeat(1) + (char) ('a' + rnd.nextInt(26)), v);
                }
                default -> o.set(k, wrongValue(rnd));
            }
        } else if (c instanceof ArrayNode a && !a.isEmpty()) {
            int i = rnd.nextInt(a.size());
            switch (rnd.nextInt(4)) {
                case 0 -> a.remove(i);
                case 1 -> a.add(wrongValue(rnd));
                default -> a.set(i, wrongValue(rnd));
            }
        }
        return doc;
    }

    private static void collect(JsonNode n, List<JsonNode> out) {
        if (n.isContainerNode()) {
            out.add(n);
            for (JsonNode child : n) {
                if (out.size() > 4000) {
                    return; // large headers: a sample is enough
                }
                collect(child, out);
            }
        }
    }

    /** A value a reader must not trust: wrong type, absurd number, huge or empty string, deep array. */
    static JsonNode wrongValue(Random rnd) {
        return switch (rnd.nextInt(16)) {
            case 0 -> F.numberNode(-1);
            case 1 -> F.numberNode(0);
            case 2 -> F.numberNode(Long.MAX_VALUE);
            case 3 -> F.numberNode(Integer.MAX_VALUE);
            case 4 -> F.numberNode(new BigInteger("123456789012345678901234567890"));
            case 5 -> F.numberNode(1e300 * (rnd.nextBoolean() ? 1 : -1));
            case 6 -> F.numberNode(rnd.nextDouble());
            case 7 -> F.textNode("");
            case 8 -> F.textNode("x".repeat(1 + rnd.nextInt(10_000)));
            case 9 -> F.nullNode();
            case 10 -> F.booleanNode(rnd.nextBoolean());
            case 11 -> F.objectNode();
            case 12 -> F.arrayNode();
            case 13 -> {
                ArrayNode a = F.arrayNode();
                int n = rnd.nextInt(5);
                for (int i = 0; i < n; i++) {
                    a.add(rnd.nextInt(3) == 0 ? F.numberNode(-rnd.nextInt(10)) : F.numberNode(rnd.nextLong()));
                }
                yield a;
            }
            case 14 -> F.numberNode(rnd.nextInt(1 << 20));
            default -> {
                ArrayNode root = F.arrayNode();
                ArrayNode a = root;
                for (int i = rnd.nextInt(300); i > 0; i--) {
                    a = a.addArray();
                }
                yield root;
            }
        };
    }

    /** Repeats the document's first key (a strict reader must refuse duplicates). */
    private static byte[] duplicateKey(byte[] b, Random rnd) {
        String s = new String(b, StandardCharsets.UTF_8);
        int q = s.indexOf('"');
        int end = q < 0 ? -1 : s.indexOf('"', q + 1);
        if (end < 0) {
            return b;
        }
        String key = s.substring(q, end + 1);
        return ("{" + key + ":" + rnd.nextInt(10) + "," + s.substring(1)).getBytes(StandardCharsets.UTF_8);
    }

    /** Nesting far deeper than any real document: a recursive reader would overflow its stack. */
    private static byte[] deepNesting(Random rnd) {
        int depth = 1000 + rnd.nextInt(20_000);
        return ("{\"a\":" + "[".repeat(depth) + "]".repeat(depth) + "}").getBytes(StandardCharsets.UTF_8);
    }

    static Map<String, JsonNode> fields(JsonNode o) {
        java.util.LinkedHashMap<String, JsonNode> m = new java.util.LinkedHashMap<>();
        o.properties().forEach(e -> m.put(e.getKey(), e.getValue()));
        return m;
    }
}
