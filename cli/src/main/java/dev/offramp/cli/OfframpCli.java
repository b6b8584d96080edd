package dev.offramp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code offramp} command. Each subcommand is a thin shell over a library call; the work lives
 * in the modules, so everything the CLI does a JVM application can do too.
 */
@Command(name = "offramp",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Pure-Java Llama-family inference with exit-gated decoding.",
        subcommands = {
                CommandLine.HelpCommand.class,
                InspectCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                SynthCommand.class,
                BenchCommand.class,
                PerplexityCommand.class,
                QuantizeCommand.class,
                ConvertCommand.class,
        })
public final class OfframpCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Builds the command line with Offramp's error handling (one clear line, no stack trace, for bad input). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new OfframpCli());
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl;
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
