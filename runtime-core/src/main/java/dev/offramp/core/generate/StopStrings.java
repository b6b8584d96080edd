package dev.offramp.core.generate;

import java.util.List;

/**
 * Holds back streamed text while it may still turn into a stop string, so a caller never sees
 * part of one. Not thread-safe; one per generation.
 */
final class StopStrings {

    private final List<String> stops;
    private final StringBuilder pending = new StringBuilder();
    private boolean matched;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    boolean matched() {
        return matched;
    }

    /** Adds {@code piece}; returns the text that can no longer be part of a stop string. */
    String push(String piece) {
        if (stops.isEmpty()) {
            return piece;
        }
        pending.append(piece);
        int at = -1;
        for (String s : stops) {
            int i = pending.indexOf(s);
            if (i >= 0 && (at < 0 || i < at)) {
                at = i;
            }
        }
        if (at >= 0) {
            matched = true;
            String out = pending.substring(0, at);
            pending.setLength(0);
            return out;
        }
        int hold = 0;
        for (String s : stops) {
            for (int len = Math.min(s.length() - 1, pending.length()); len > hold; len--) {
                if (endsWith(pending, s, len)) {
                    hold = len;
                    break;
                }
            }
        }
        int release = pending.length() - hold;
        String out = pending.substring(0, release);
        pending.delete(0, release);
        return out;
    }

    /** Everything still held back. */
    String flush() {
        String s = pending.toString();
        pending.setLength(0);
        return s;
    }

    private static boolean endsWith(StringBuilder sb, String stop, int len) {
        int off = sb.length() - len;
        for (int i = 0; i < len; i++) {
            if (sb.charAt(off + i) != stop.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
