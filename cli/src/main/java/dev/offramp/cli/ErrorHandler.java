package dev.offramp.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Bad input (a corrupt file, an unknown tensor type, a missing tokenizer) is the user's to fix, so it
 * is reported as one line naming the problem. Anything else is a bug and keeps its stack trace.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, CommandLine.ParseResult parsed) {
        boolean userError = ex instanceof IOException || ex instanceof UncheckedIOException
                || ex instanceof IllegalArgumentException || ex instanceof IllegalStateException
                // --backend cuda without a GPU, or a misspelt backend name: the user's to fix
                || ex instanceof dev.offramp.core.backend.BackendUnavailableException;
        if (userError || Boolean.getBoolean("offramp.quietErrors")) {
            cl.getErr().println("offramp: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (Boolean.getBoolean("offramp.stacktrace")) {
                ex.printStackTrace(cl.getErr());
            }
        } else {
            ex.printStackTrace(cl.getErr());
        }
        return userError ? 2 : 1;
    }
}
