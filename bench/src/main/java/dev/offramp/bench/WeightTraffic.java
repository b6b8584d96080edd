package dev.offramp.bench;

import dev.offramp.loader.gguf.GgufFile;
import dev.offramp.loader.gguf.GgufTensorInfo;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Weight bytes one decoded token reads: every tensor once, except the token embedding, of which only
 * one row is gathered, unless there is no {@code output.weight} (tied head), in which case the whole
 * embedding is the head matrix and is streamed too. KV-cache reads are not counted (small at tg64).
 *
 * @param bytesPerToken weight bytes read per decoded token
 * @param fileBytes     tensor data bytes in the file
 * @param typeSummary   the weight types found, e.g. {@code Q4_0 x 154, Q8_0 x 1, F32 x 45}
 */
public record WeightTraffic(long bytesPerToken, long fileBytes, String typeSummary) {

    public static WeightTraffic of(Path gguf) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            long total = 0;
            GgufTensorInfo embd = null;
            boolean head = false;
            java.util.Map<String, Integer> types = new java.util.TreeMap<>();
            for (GgufTensorInfo t : f.tensorInfos()) {
                total += t.byteSize();
                types.merge(t.type().name(), 1, Integer::sum);
                if (t.name().equals("token_embd.weight")) {
                    embd = t;
                } else if (t.name().equals("output.weight")) {
                    head = true;
                }
            }
            long perToken = total;
            if (embd != null && head) {
                long rows = embd.shape()[embd.shape().length - 1];
                perToken = total - embd.byteSize() + embd.byteSize() / Math.max(1, rows);
            }
            StringBuilder s = new StringBuilder();
            types.forEach((k, v) -> s.append(s.isEmpty() ? "" : ", ").append(k).append(" x ").append(v));
            return new WeightTraffic(perToken, total, s.toString());
        }
    }
}
