package dev.offramp.loader.fuzz;

import java.util.Arrays;
import java.util.Random;

/** Byte-level mutations: flips, cuts, splices, inserted and deleted runs. */
final class Bytes {

    private Bytes() {
    }

    /** A mutated copy; positions are drawn from {@code [0, span)} (the part worth hitting). */
    static byte[] mutate(byte[] in, Random rnd, int span) {
        byte[] b = in.clone();
        if (b.length == 0) {
            return new byte[] {(byte) rnd.nextInt(256)};
        }
        int pos = rnd.nextInt(Math.max(1, Math.min(span, b.length)));
        switch (rnd.nextInt(5)) {
            case 0 -> {
                for (int i = 0, n = 1 + rnd.nextInt(4); i < n; i++) {
                    b[Math.min(b.length - 1, pos + i)] ^= (byte) (1 << rnd.nextInt(8));
                }
            }
            case 1 -> b = Arrays.copyOf(b, pos);
            case 2 -> {
                int len = 1 + rnd.nextInt(64);
                int src = rnd.nextInt(b.length);
                System.arraycopy(b, src, b, pos, Math.min(len, Math.min(b.length - src, b.length - pos)));
            }
            case 3 -> {
                int n = 1 + rnd.nextInt(16);
                byte[] c = new byte[b.length + n];
                System.arraycopy(b, 0, c, 0, pos);
                for (int i = 0; i < n; i++) {
                    c[pos + i] = (byte) rnd.nextInt(256);
                }
                System.arraycopy(b, pos, c, pos + n, b.length - pos);
                b = c;
            }
            default -> {
                int n = Math.min(1 + rnd.nextInt(16), b.length - pos);
                byte[] c = new byte[b.length - n];
                System.arraycopy(b, 0, c, 0, pos);
                System.arraycopy(b, pos + n, c, pos, b.length - pos - n);
                b = c;
            }
        }
        return b;
    }
}
