package dev.offramp.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.offramp.core.testing.Fixtures;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;

/** Reads the golden outputs under ../shared/models/golden (written by others, never copied here). */
final class Goldens {
    private Goldens() {
    }

    static String text(String file) {
        try {
            return Files.readString(Fixtures.model("golden/" + file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] ids(String file) {
        return Arrays.stream(text(file).trim().split("\\s+")).mapToInt(Integer::parseInt).toArray();
    }

    static JsonNode json(String file) {
        try {
            return new ObjectMapper().readTree(Fixtures.model("golden/" + file).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static int[] intArray(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
