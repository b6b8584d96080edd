package dev.offramp.loader.gguf;

import dev.offramp.core.tensor.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * Where one tensor lives in a GGUF file, as its tensor-info record says.
 *
 * @param name       tensor name
 * @param type       storage type
 * @param shape      dimensions outermost first (GGUF stores them ne0-first: this is that list reversed)
 * @param offset     byte offset from the start of the data section (as stored in the file)
 * @param fileOffset absolute byte offset of the data in its file
 * @param byteSize   bytes of data
 * @param shard      index of the shard file holding it (0 for unsplit files)
 */
public record GgufTensorInfo(String name, DType type, long[] shape, long offset, long fileOffset, long byteSize, int shard) {

    public GgufTensorInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && name.equals(t.name) && type == t.type && Arrays.equals(shape, t.shape)
                && offset == t.offset && fileOffset == t.fileOffset && byteSize == t.byteSize && shard == t.shard;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, type, Arrays.hashCode(shape), offset, fileOffset, byteSize, shard);
    }

    @Override
    public String toString() {
        return name + " " + type + Arrays.toString(shape) + " @" + offset + "+" + byteSize;
    }
}
