package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Each kind of malformed GGUF gives a GgufFormatException naming the file and the field. */
class GgufBadInputTest {

    @TempDir
    Path tmp;

    /** Little-endian raw GGUF builder, so tests can write what our writer never would. */
    static final class Raw {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Raw u32(long v) {
            for (int i = 0; i < 32; i += 8) {
                out.write((int) (v >>> i) & 0xff);
            }
            return this;
        }

        Raw u64(long v) {
            for (int i = 0; i < 64; i += 8) {
                out.write((int) (v >>> i) & 0xff);
            }
            return this;
        }

        Raw str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            out.writeBytes(b);
            return this;
        }

        Raw header(int version, long tensors, long kvs) {
            out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
            return u32(version).u64(tensors).u64(kvs);
        }

        Raw tensor(String name, int type, long offset, long... ne) {
            str(name).u32(ne.length);
            for (long n : ne) {
                u64(n);
            }
            return u32(type).u64(offset);
        }

        Raw padTo(int alignment) {
            while (out.size() % alignment != 0) {
                out.write(0);
            }
            return this;
        }

        Raw zeros(int n) {
            out.writeBytes(new byte[n]);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }

    private static GgufFormatException fails(byte[] image) {
        GgufFormatException e = catchThrowableOfType(GgufFormatException.class, () -> GgufFile.open(image, "bad.gguf"));
        assertThat(e).as("expected a GgufFormatException").isNotNull();
        assertThat(e.getMessage()).startsWith("bad.gguf: ");
        assertThat(e.file()).isEqualTo("bad.gguf");
        return e;
    }

    @Test
    void wrongMagic() {
        byte[] b = new Raw().header(3, 0, 0).bytes();
        b[0] = 'X';
        assertThat(fails(b)).hasMessageContaining("magic").hasMessageContaining("not a GGUF file");
    }

    @Test
    void unsupportedVersions() {
        assertThat(fails(new Raw().header(1, 0, 0).bytes())).hasMessageContaining("version").hasMessageContaining("1");
        assertThat(fails(new Raw().header(4, 0, 0).bytes())).hasMessageContaining("unsupported GGUF version 4");
        assertThat(fails(new Raw().header(0x03000000, 0, 0).bytes())).hasMessageContaining("big-endian");
    }

    @Test
    void absurdCountsAndLengthsAreRefusedBeforeAllocating() {
        assertThat(fails(new Raw().header(3, 0, Long.MAX_VALUE).bytes())).hasMessageContaining("metadata_kv_count")
                .hasMessageContaining("absurd");
        assertThat(fails(new Raw().header(3, -1L, 0).bytes())).hasMessageContaining("tensor_count");
        assertThat(fails(new Raw().header(3, 0, 1).u64(1L << 40).zeros(16).bytes()))
                .hasMessageContaining("metadata key #0").hasMessageContaining("string length 1099511627776");
        assertThat(fails(new Raw().header(3, 0, 1).str("k").u32(9).u32(8).u64(Integer.MAX_VALUE).zeros(64).bytes()))
                .hasMessageContaining("metadata 'k' array length").hasMessageContaining("absurd");
        assertThat(fails(new Raw().header(3, 0, 1).str("k").u32(8).u64(-5L).zeros(64).bytes()))
                .hasMessageContaining("metadata 'k'").hasMessageContaining("string length");
    }

    @Test
    void unknownValueTypeAndDeepNesting() {
        assertThat(fails(new Raw().header(3, 0, 1).str("k").u32(13).zeros(8).bytes()))
                .hasMessageContaining("metadata 'k' type").hasMessageContaining("unknown value type id 13");
        Raw deep = new Raw().header(3, 0, 1).str("k").u32(9);
        for (int i = 0; i < 40; i++) {
            deep.u32(9).u64(1);
        }
        deep.u32(4).u64(0);
        assertThat(fails(deep.bytes())).hasMessageContaining("nested deeper");
    }

    @Test
    void duplicateKeysAndTensors() {
        assertThat(fails(new Raw().header(3, 0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes()))
                .hasMessageContaining("metadata 'k'").hasMessageContaining("twice");
        byte[] b = new Raw().header(3, 2, 0).tensor("t", 0, 0, 4).tensor("t", 0, 32, 4).padTo(32).zeros(64).bytes();
        assertThat(fails(b)).hasMessageContaining("tensor 't'").hasMessageContaining("twice");
    }

    @Test
    void unknownTensorTypeNamesTensorAndId() {
        byte[] b = new Raw().header(3, 1, 0).tensor("blk.0.attn_q.weight", 99, 0, 32).padTo(32).zeros(128).bytes();
        assertThat(fails(b)).hasMessageContaining("tensor 'blk.0.attn_q.weight' type")
                .hasMessageContaining("unknown ggml type id 99");
        // removed ggml types (Q4_2 = 4) are unknown too
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 4, 0, 32).padTo(32).zeros(128).bytes()))
                .hasMessageContaining("unknown ggml type id 4");
    }

    @Test
    void badShapes() {
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 0, 0, 1, 1, 1, 1, 1).padTo(32).zeros(32).bytes()))
                .hasMessageContaining("tensor 'x' n_dims").hasMessageContaining("at most 4");
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 0, 0, -3).padTo(32).zeros(32).bytes()))
                .hasMessageContaining("tensor 'x' ne[0]").hasMessageContaining("negative");
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 0, 0, 1L << 40, 1L << 40).padTo(32).zeros(32).bytes()))
                .hasMessageContaining("tensor 'x'").hasMessageContaining("overflow");
        assertThat(fails(new Raw().header(3, 1, 0).tensor("q", DType.Q8_0.ggmlId(), 0, 33).padTo(32).zeros(64).bytes()))
                .hasMessageContaining("tensor 'q' ne[0]").hasMessageContaining("block size 32");
    }

    @Test
    void tensorsOutOfFileOverlappingOrMisaligned() {
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 0, 0, 16).padTo(32).zeros(32).bytes()))
                .hasMessageContaining("tensor 'x' offset").hasMessageContaining("past the end");
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 0, 8, 4).padTo(32).zeros(64).bytes()))
                .hasMessageContaining("tensor 'x' offset").hasMessageContaining("not a multiple of the alignment 32");
        assertThat(fails(new Raw().header(3, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 16).padTo(32).zeros(128).bytes()))
                .hasMessageContaining("tensor 'b' offset").hasMessageContaining("overlaps tensor 'a'");
        assertThat(fails(new Raw().header(3, 1, 0).tensor("x", 0, 1L << 62, 4).padTo(32).zeros(64).bytes()))
                .hasMessageContaining("past the end");
    }

    @Test
    void badAlignmentKey() {
        assertThat(fails(new Raw().header(3, 0, 1).str("general.alignment").u32(4).u32(48).bytes()))
                .hasMessageContaining("general.alignment").hasMessageContaining("power of two");
        assertThat(fails(new Raw().header(3, 0, 1).str("general.alignment").u32(5).u32(32).bytes()))
                .hasMessageContaining("general.alignment").hasMessageContaining("UINT32");
    }

    @Test
    void everyTruncationOfAValidImageFailsCleanly() throws Exception {
        byte[] full = GgufWriter.create()
                .put("general.architecture", GgufValue.string("llama"))
                .put("a", GgufValue.array(GgufArray.ofStrings("x", "yy", "zzz")))
                .put("f", GgufValue.float32(1f))
                .addTensor("t", DType.F32, new long[] {3, 8}, MemorySegment.ofArray(new float[24]))
                .addTensor("u", DType.Q8_0, new long[] {32}, MemorySegment.ofArray(new byte[34]))
                .toBytes();
        try (GgufFile ok = GgufFile.open(full, "bad.gguf")) {
            assertThat(ok.tensors()).hasSize(2);
        }
        long dataEnd = 0;
        try (GgufFile ok = GgufFile.open(full, "bad.gguf")) {
            for (GgufTensorInfo i : ok.tensorInfos()) {
                dataEnd = Math.max(dataEnd, i.fileOffset() + i.byteSize());
            }
        }
        for (int n = 0; n < dataEnd; n++) {
            byte[] cut = java.util.Arrays.copyOf(full, n);
            GgufFormatException e = fails(cut);
            assertThat(e.getMessage()).as("cut at " + n).isNotBlank();
        }
    }

    @Test
    void fileErrorsNameThePath() throws Exception {
        Path p = tmp.resolve("short.gguf");
        Files.write(p, new byte[] {'G', 'G', 'U', 'F', 3, 0});
        assertThatThrownBy(() -> GgufFile.open(p)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining(p.toString()).hasMessageContaining("too short");
        Path q = tmp.resolve("notgguf.gguf");
        Files.write(q, new byte[64]);
        assertThatThrownBy(() -> GgufFile.open(q)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining(q.toString()).hasMessageContaining("magic");
        assertThatThrownBy(() -> GgufFile.open(tmp.resolve("absent.gguf"))).isInstanceOf(java.nio.file.NoSuchFileException.class)
                .hasMessageContaining("absent.gguf");
        // a shard whose siblings cannot be named
        Path odd = tmp.resolve("odd.gguf");
        GgufWriter.create().put("split.count", GgufValue.uint16(2)).put("split.no", GgufValue.uint16(0)).write(odd);
        assertThatThrownBy(() -> GgufFile.open(odd)).isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("odd.gguf").hasMessageContaining("split.count");
    }

    @Test
    void metadataThatWouldExhaustTheHeapIsRefused() throws Exception {
        String[] many = new String[10_000];
        java.util.Arrays.fill(many, "token");
        byte[] b = GgufWriter.create().put("tokenizer.ggml.tokens", GgufValue.array(GgufArray.ofStrings(many))).toBytes();
        MemorySegment seg = MemorySegment.ofArray(b);
        assertThat(GgufParser.parse(seg, "big.gguf", 0, 10L << 20).metadata().getStringArray("tokenizer.ggml.tokens"))
                .hasSize(10_000);
        assertThatThrownBy(() -> GgufParser.parse(seg, "big.gguf", 0, 100_000))
                .isInstanceOf(GgufFormatException.class)
                .hasMessageContaining("big.gguf").hasMessageContaining("tokenizer.ggml.tokens").hasMessageContaining("heap");
    }
}
