package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Seeded mutation fuzzing of the GGUF reader: valid fixtures are mutated in memory (bit flips,
 * cuts, splices, inserted/deleted bytes, inflated counts and lengths) and every case must end in
 * success or a {@link GgufFormatException} naming the image — never an OutOfMemoryError,
 * StackOverflowError, hang or any other exception. A successful parse must also hand out tensors
 * whose every byte can be read and a config mapping that fails only with GgufFormatException.
 *
 * <p>{@code -Dofframp.fuzz.cases=N} (default 4000) and {@code -Dofframp.fuzz.seed=S} tune it; a
 * failure message names the seed and case so it can be replayed.
 */
class GgufFuzzTest {

    private static final int CASES = Integer.getInteger("offramp.fuzz.cases", 4000);
    private static final long SEED = Long.getLong("offramp.fuzz.seed", 20261122L);
    private static final int BATCH = 250;

    private record Fixture(String name, byte[] bytes, int headerEnd) {
    }

    @Test
    void mutatedFixturesFailCleanly() throws Exception {
        List<Fixture> fixtures = new ArrayList<>();
        // the Q4_0 file has stories260K's full metadata (vocabulary included) at a quarter of the bytes
        fixtures.add(load("derived/stories260K-Q4_0.gguf"));
        fixtures.add(load("derived/ggml-quant-vectors.gguf"));
        fixtures.add(synthetic());
        int[] outcomes = new int[2];
        for (int start = 0; start < CASES; start += BATCH) {
            int from = start;
            assertTimeoutPreemptively(Duration.ofSeconds(30), () -> {
                for (int c = from; c < Math.min(CASES, from + BATCH); c++) {
                    // scrambled: java.util.Random's first draws from consecutive seeds are nearly equal
                    Random rnd = new Random(dev.offramp.loader.fuzz.FuzzSeeds.caseSeed(SEED * 1_000_003L + c));
                    Fixture f = fixtures.get(c % fixtures.size());
                    byte[] mutated = mutate(f, rnd);
                    outcomes[runCase(mutated, "fuzz-" + f.name() + "-case-" + c)]++;
                }
            }, () -> "a batch of " + BATCH + " cases from case " + from + " (seed " + SEED + ") ran over 30 s");
        }
        // the mutations must reach the parser's checks, not only tensor bytes
        assertThat(outcomes[1]).as("cases rejected").isGreaterThan(CASES / 4);
        assertThat(outcomes[0]).as("cases accepted").isGreaterThan(0);
    }

    /** 0 = parsed, 1 = clean GgufFormatException. Anything else fails the test. */
    private static int runCase(byte[] image, String name) {
        try (GgufFile g = GgufFile.open(image, name)) {
            for (Tensor t : g.tensors().values()) {
                if (t.byteSize() > 0) {
                    t.data().get(ValueLayout.JAVA_BYTE, 0);
                    t.data().get(ValueLayout.JAVA_BYTE, t.byteSize() - 1);
                }
            }
            try {
                GgufModelConfigs.from(g);
            } catch (GgufFormatException e) {
                checkMessage(e, name);
            }
            return 0;
        } catch (GgufFormatException e) {
            checkMessage(e, name);
            return 1;
        } catch (Throwable t) {
            throw new AssertionError(name + " (seed " + SEED + "): unexpected " + t, t);
        }
    }

    private static void checkMessage(GgufFormatException e, String name) {
        if (!e.getMessage().startsWith(name + ": ") || e.field() == null || e.field().isEmpty()) {
            throw new AssertionError(name + ": message does not name the file and field: " + e.getMessage(), e);
        }
    }

    private static byte[] mutate(Fixture f, Random rnd) {
        byte[] b = f.bytes().clone();
        int rounds = 1 + rnd.nextInt(3);
        for (int r = 0; r < rounds; r++) {
            b = mutateOnce(b, f, rnd);
        }
        return b;
    }

    private static byte[] mutateOnce(byte[] b, Fixture f, Random rnd) {
        if (b.length == 0) {
            return b;
        }
        // most mutations land in the header, where the parser's decisions are
        int span = rnd.nextInt(5) == 0 ? b.length : Math.min(b.length, f.headerEnd());
        int pos = rnd.nextInt(span);
        switch (rnd.nextInt(7)) {
            case 0 -> { // flip bits
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    b[Math.min(b.length - 1, pos + i)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> { // cut
                return java.util.Arrays.copyOf(b, pos);
            }
            case 2 -> { // splice: copy a chunk from elsewhere over this spot
                int len = 1 + rnd.nextInt(64);
                int src = rnd.nextInt(b.length);
                System.arraycopy(b, src, b, pos, Math.min(len, Math.min(b.length - src, b.length - pos)));
            }
            case 3 -> { // inflate a 64-bit count or length at a random spot (aligned to 4 to hit fields more often)
                int p = Math.min(pos & ~3, b.length - 8);
                if (p >= 0) {
                    long v = switch (rnd.nextInt(5)) {
                        case 0 -> Long.MAX_VALUE;
                        case 1 -> -1L;
                        case 2 -> (long) b.length * 2;
                        case 3 -> 1L << (20 + rnd.nextInt(40));
                        default -> rnd.nextLong();
                    };
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putLong(p, v);
                }
            }
            case 4 -> { // a 32-bit field: type ids, n_dims
                int p = Math.min(pos & ~3, b.length - 4);
                if (p >= 0) {
                    int v = switch (rnd.nextInt(4)) {
                        case 0 -> rnd.nextInt(40);
                        case 1 -> -1;
                        case 2 -> Integer.MAX_VALUE;
                        default -> rnd.nextInt();
                    };
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(p, v);
                }
            }
            case 5 -> { // insert bytes
                int n = 1 + rnd.nextInt(16);
                byte[] c = new byte[b.length + n];
                System.arraycopy(b, 0, c, 0, pos);
                for (int i = 0; i < n; i++) {
                    c[pos + i] = (byte) rnd.nextInt(256);
                }
                System.arraycopy(b, pos, c, pos + n, b.length - pos);
                return c;
            }
            default -> { // delete bytes
                int n = Math.min(1 + rnd.nextInt(16), b.length - pos);
                byte[] c = new byte[b.length - n];
                System.arraycopy(b, 0, c, 0, pos);
                System.arraycopy(b, pos + n, c, pos, b.length - pos - n);
                return c;
            }
        }
        return b;
    }

    private static Fixture load(String rel) throws Exception {
        byte[] b = Files.readAllBytes(Fixtures.model(rel));
        return new Fixture(rel.replace('/', '_'), b, headerEnd(b));
    }

    private static int headerEnd(byte[] b) throws GgufFormatException {
        try (GgufFile g = GgufFile.open(b, "fixture")) {
            long first = g.tensorInfos().stream().mapToLong(GgufTensorInfo::fileOffset).min().orElse(b.length);
            return (int) Math.min(first, b.length);
        }
    }

    /** A small image with every value type and nested arrays. */
    private static Fixture synthetic() throws GgufFormatException {
        byte[] b = GgufWriter.create().version(2)
                .put("general.architecture", GgufValue.string("llama"))
                .put("llama.embedding_length", GgufValue.uint32(32))
                .put("llama.block_count", GgufValue.uint32(1))
                .put("llama.attention.head_count", GgufValue.uint32(4))
                .put("llama.feed_forward_length", GgufValue.uint32(64))
                .put("llama.context_length", GgufValue.uint32(128))
                .put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(1e-5f))
                .put("u8", GgufValue.uint8(1)).put("i16", GgufValue.int16(-2)).put("u64", GgufValue.uint64(3))
                .put("f64", GgufValue.float64(4)).put("b", GgufValue.bool(true))
                .put("nested", GgufValue.array(new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                        GgufArray.ofStrings("a", "b"), GgufArray.ofFloats(1, 2),
                        new GgufArray(GgufValueType.BOOL, new boolean[] {true})})))
                .addTensor("token_embd.weight", DType.F32, new long[] {16, 32}, MemorySegment.ofArray(new float[16 * 32]))
                .addTensor("blk.0.attn_q.weight", DType.Q8_0, new long[] {32, 32}, MemorySegment.ofArray(new byte[32 * 34]))
                .addTensor("output_norm.weight", DType.F16, new long[] {32}, MemorySegment.ofArray(new byte[64]))
                .toBytes();
        return new Fixture("synthetic", b, headerEnd(b));
    }
}
