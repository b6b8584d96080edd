package dev.offramp.bench;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Entry point of {@code offramp-bench.jar}. A jar manifest cannot enable the incubator Vector API
 * module, so when it is missing this main starts itself again in a child JVM with the flags, which
 * makes {@code java -jar offramp-bench.jar} just work. {@code jmh ...} runs the JMH kernel suites.
 */
public final class BenchMain {
    private BenchMain() {
    }

    public static void main(String[] args) throws Exception {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            System.exit(relaunch(args));
        }
        if (args.length > 0 && args[0].equals("jmh")) {
            org.openjdk.jmh.Main.main(java.util.Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        System.err.println("usage: offramp-bench jmh [JMH options]   (the end-to-end benchmark arrives with `offramp bench`)");
        System.exit(2);
    }

    static int relaunch(String[] args) throws IOException, InterruptedException, URISyntaxException {
        Path self = Path.of(BenchMain.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(List.of(java.toString(),
                "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", self.toString(),
                BenchMain.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).inheritIO().start().waitFor();
    }
}
