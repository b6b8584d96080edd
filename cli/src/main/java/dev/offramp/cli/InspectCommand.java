package dev.offramp.cli;

import dev.offramp.loader.inspect.InspectReport;
import dev.offramp.loader.inspect.ModelInspector;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code offramp inspect FILE|DIR [--json]}: a thin shell over {@link ModelInspector}. */
@Command(name = "inspect",
        mixinStandardHelpOptions = true,
        description = "Show a model's architecture, config, tokenizer and tensor table (GGUF file or HF folder).")
final class InspectCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "FILE|DIR", description = "GGUF file (any shard of a split model) or HF model folder")
    Path path;

    @Option(names = "--json", description = "print the report as JSON (for scripts)")
    boolean json;

    @Override
    public Integer call() throws Exception {
        InspectReport r = ModelInspector.inspect(path);
        spec.commandLine().getOut().print(json ? ModelInspector.toJson(r) + System.lineSeparator() : ModelInspector.toText(r));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
