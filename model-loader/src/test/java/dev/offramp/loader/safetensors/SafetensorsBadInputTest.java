package dev.offramp.loader.safetensors;

import dev.offramp.core.tensor.DType;
import dev.offramp.core.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

class SafetensorsBadInputTest {

    @TempDir
    Path tmp;

    private Path file(String name, long headerLen, String json, int dataBytes) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(h);
        Path p = tmp.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path file(String name, String json, int dataBytes) throws IOException {
        return file(name, json.getBytes(StandardCharsets.UTF_8).length, json, dataBytes);
    }

    private void rejects(Path p, String... fragments) {
        var a = assertThatThrownBy(() -> SafetensorsFile.open(p).close())
                .isInstanceOf(SafetensorsFormatException.class)
                .hasMessageContaining(p.getFileName().toString());
        for (String f : fragments) {
            a.hasMessageContaining(f);
        }
    }

    @Test
    void tooShort() throws IOException {
        Path p = tmp.resolve("short.safetensors");
        Files.write(p, new byte[5]);
        rejects(p, "8-byte");
    }

    @Test
    void headerLongerThanFile() throws IOException {
        rejects(file("long.safetensors", 1000, "{}", 0), "header length 1000");
    }

    @Test
    void absurdHeaderLengthsAreRefusedWithoutAllocating() throws IOException {
        rejects(file("neg.safetensors", -1, "{}", 0), "header length");
        rejects(file("huge.safetensors", Long.MAX_VALUE, "{}", 0), "header length");
    }

    @Test
    void malformedJson() throws IOException {
        rejects(file("mal.safetensors", "{\"a\": {\"dtype\": ", 0), "malformed JSON");
        rejects(file("arr.safetensors", "[1, 2]   ", 0), "not a JSON object");
        rejects(file("trail.safetensors", "{} {}", 0), "malformed JSON");
    }

    @Test
    void duplicateTensorNames() throws IOException {
        String e = "{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}";
        rejects(file("dup.safetensors", "{\"w\":" + e + ",\"w\":" + e + "}", 1), "malformed JSON", "w");
    }

    @Test
    void unknownDtypeNamesTensor() throws IOException {
        rejects(file("dt.safetensors", "{\"wq\":{\"dtype\":\"Q9\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                "'wq'", "dtype 'Q9'");
        rejects(file("bool.safetensors", "{\"mask\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1),
                "'mask'", "BOOL");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        rejects(file("oor.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
                "'w'", "run past");
        rejects(file("neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8),
                "'w'", "data_offsets[0]");
        rejects(file("rev.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,0]}}", 8),
                "'w'", "end 0 < begin 4");
        rejects(file("big.safetensors",
                "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]}}", 8),
                "'w'", "data_offsets[1]");
    }

    @Test
    void sizeNotMatchingDtypeTimesShape() throws IOException {
        rejects(file("sz.safetensors", "{\"w\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", 16),
                "'w'", "needs 12 bytes", "span 8");
        rejects(file("ovf.safetensors",
                "{\"w\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8),
                "'w'", "overflows");
        rejects(file("frac.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 8),
                "'w'", "shape[0]");
    }

    @Test
    void overlappingTensors() throws IOException {
        rejects(file("ovl.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 16), "overlaps", "'a'", "'b'");
    }

    @Test
    void badMetadataAndFields() throws IOException {
        rejects(file("m1.safetensors", "{\"__metadata__\":{\"k\":1}}", 0), "__metadata__", "'k'");
        rejects(file("m2.safetensors", "{\"__metadata__\":[]}", 0), "__metadata__");
        rejects(file("f1.safetensors", "{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1), "'w'", "'dtype'");
        rejects(file("f2.safetensors", "{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1), "'w'", "'shape'");
        rejects(file("f3.safetensors", "{\"w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}", 1),
                "'w'", "'data_offsets'");
        rejects(file("f4.safetensors", "{\"w\":7}", 1), "'w'");
    }

    /**
     * Seeded mutation fuzz over a small valid file: flips, cuts, splices and inflated numbers must
     * give either a readable file or a {@link SafetensorsFormatException}, never anything else.
     */
    @Test
    void mutationFuzz() throws IOException {
        Random rnd = new Random(20261122);
        Path good = tmp.resolve("good.safetensors");
        SafetensorsWriter.write(good, Map.of("format", "pt"), List.of(
                SafetensorsRoundTripTest.random("model.embed_tokens.weight", DType.F32, rnd, 8, 4),
                SafetensorsRoundTripTest.random("model.norm.weight", DType.BF16, rnd, 4),
                SafetensorsRoundTripTest.random("model.layers.0.mlp.up_proj.weight", DType.F16, rnd, 6, 4)));
        byte[] base = Files.readAllBytes(good);
        long headerLen = ByteBuffer.wrap(base, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Path p = tmp.resolve("fuzz.safetensors");
        int ok = 0;
        int rejected = 0;
        for (int i = 0; i < 5000; i++) {
            byte[] m = mutate(base, (int) headerLen, rnd);
            // Every 50th case goes through a real file and mmap; the rest parse the same bytes in memory.
            boolean viaFile = i % 50 == 0;
            if (viaFile) {
                Files.write(p, m);
            }
            try (SafetensorsFile f = viaFile ? SafetensorsFile.open(p) : SafetensorsFile.open(MemorySegment.ofArray(m), p)) {
                for (Tensor t : f.tensors().values()) {
                    t.data().get(java.lang.foreign.ValueLayout.JAVA_BYTE, Math.max(0, t.byteSize() - 1));
                }
                ok++;
            } catch (SafetensorsFormatException e) {
                assertThat(e.getMessage()).contains("fuzz.safetensors");
                rejected++;
            } catch (Throwable t) {
                fail("case " + i + ": unexpected " + t + " for header "
                        + new String(m, 8, Math.max(0, Math.min(m.length - 8, (int) headerLen)), StandardCharsets.UTF_8), t);
            }
        }
        assertThat(rejected).isGreaterThan(2000);
        assertThat(ok).isGreaterThan(10);
    }

    private static byte[] mutate(byte[] base, int headerLen, Random rnd) {
        byte[] m = base.clone();
        int end = 8 + headerLen;
        switch (rnd.nextInt(6)) {
            case 0 -> { // flip bytes inside the header (or its length prefix)
                for (int k = rnd.nextInt(3) + 1; k > 0; k--) {
                    m[rnd.nextInt(end)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> m = Arrays.copyOf(m, rnd.nextInt(m.length)); // truncate
            case 2 -> { // replace a digit with a long run of digits (inflated offsets / dims)
                String s = new String(m, 8, headerLen, StandardCharsets.ISO_8859_1);
                int at = s.indexOf(Character.forDigit(rnd.nextInt(10), 10), rnd.nextInt(headerLen));
                if (at >= 0) {
                    String digits = Long.toString(Math.abs(rnd.nextLong()));
                    String t = s.substring(0, at) + digits + s.substring(at + 1);
                    byte[] h = t.getBytes(StandardCharsets.ISO_8859_1);
                    ByteBuffer b = ByteBuffer.allocate(8 + h.length + (m.length - end)).order(ByteOrder.LITTLE_ENDIAN);
                    b.putLong(rnd.nextBoolean() ? h.length : headerLen).put(h).put(m, end, m.length - end);
                    m = b.array();
                }
            }
            case 3 -> { // splice: copy a header chunk over another place
                int len = rnd.nextInt(16) + 1;
                int from = 8 + rnd.nextInt(headerLen - len);
                int to = 8 + rnd.nextInt(headerLen - len);
                System.arraycopy(base, from, m, to, len);
            }
            case 4 -> ByteBuffer.wrap(m).order(ByteOrder.LITTLE_ENDIAN).putLong(0, rnd.nextLong() >>> rnd.nextInt(64));
            default -> { } // unchanged: must stay readable
        }
        return m;
    }
}
