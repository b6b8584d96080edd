package dev.offramp.core.generate;

/**
 * One step of a generation stream.
 *
 * @param id   the token generated, or {@link #NO_TOKEN} for a final event that only releases text
 *             held back (a stop-string prefix or an incomplete character) when generation was cancelled
 * @param text the text this step makes final; may be empty while text is held back
 */
public record GeneratedToken(int id, String text) {
    public static final int NO_TOKEN = -1;
}
