package dev.offramp.kernels.cpu;

/** Per-thread work memory (attention scores, RoPE tables), grown on demand and then reused. */
final class Scratch {
    private float[] a = new float[256];
    private float[] b = new float[256];
    private float[] c = new float[256];

    float[] a(int size) {
        if (a.length < size) {
            a = new float[Math.max(size, a.length * 2)];
        }
        return a;
    }

    float[] b(int size) {
        if (b.length < size) {
            b = new float[Math.max(size, b.length * 2)];
        }
        return b;
    }

    float[] c(int size) {
        if (c.length < size) {
            c = new float[Math.max(size, c.length * 2)];
        }
        return c;
    }
}
