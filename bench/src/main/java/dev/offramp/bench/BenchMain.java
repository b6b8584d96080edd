package dev.offramp.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Entry point of {@code offramp-bench.jar}. A jar manifest cannot enable the incubator Vector API
 * module, so when it is missing this main starts itself again in a child JVM with the flags, which
 * makes {@code java -jar offramp-bench.jar} just work. With no arguments it runs the end-to-end
 * benchmark (Offramp against llama.cpp, see {@link EndToEndBench}); {@code jmh ...} runs the JMH
 * kernel suites.
 */
@Command(name = "offramp-bench", mixinStandardHelpOptions = true,
        description = {"Offramp against llama.cpp on the same GGUF, same threads, same run: prefill (pp) and decode (tg)",
                "tokens/s, ratios, weight-streaming GB/s and the fraction of the measured read bandwidth.",
                "`offramp-bench jmh [JMH options]` runs the JMH kernel suites instead."})
public final class BenchMain implements Callable<Integer> {

    @Mixin
    BenchArgs args = new BenchArgs();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        return args.run(spec.commandLine().getOut(), System.err);
    }

    public static void main(String[] args) throws Exception {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            System.exit(relaunch(args));
        }
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        CommandLine cl = new CommandLine(new BenchMain());
        cl.setExecutionExceptionHandler((e, c, parse) -> {
            if (e instanceof IllegalArgumentException || e instanceof IOException) {
                c.getErr().println("offramp-bench: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        System.exit(cl.execute(args));
    }

    static int relaunch(String[] args) throws IOException, InterruptedException, URISyntaxException {
        Path self = Path.of(BenchMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC",
                "-cp", self.toString(), BenchMain.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
}
