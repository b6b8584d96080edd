package dev.offramp.e2e;

import dev.offramp.core.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The "Library use" example in README.md, compiled and run as written (only the model path is redirected). */
class ReadmeExampleTest {

    static Path readme() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("README.md")) && Files.isDirectory(d.resolve("runtime-core"))) {
                return d.resolve("README.md");
            }
        }
        throw new AssertionError("README.md not found above " + Path.of("").toAbsolutePath());
    }

    @Test
    void libraryUseExampleCompilesAndPrintsTheStory(@TempDir Path tmp) throws Exception {
        String md = Files.readString(readme(), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("## Library use.*?```java\\n(.*?)```", Pattern.DOTALL).matcher(md);
        assertThat(m.find()).as("README.md has a ```java block under '## Library use'").isTrue();
        String code = m.group(1);
        String literal = "\"../shared/models/stories260K.gguf\"";
        assertThat(code).contains(literal).contains("public class Example");
        code = code.replace(literal, "\"" + Fixtures.model("stories260K.gguf").toString().replace("\\", "\\\\") + "\"");
        Path src = tmp.resolve("Example.java");
        Files.writeString(src, code);
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream diag = new ByteArrayOutputStream();
        int rc = javac.run(null, diag, diag, "-d", tmp.toString(), "-cp", System.getProperty("java.class.path"), src.toString());
        assertThat(rc).as(diag.toString()).isZero();
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (URLClassLoader cl = new URLClassLoader(new URL[] {tmp.toUri().toURL()}, getClass().getClassLoader())) {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            cl.loadClass("Example").getMethod("main", String[].class).invoke(null, (Object) new String[0]);
        } finally {
            System.setOut(old);
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertThat(printed).startsWith("Once upon a time, there was a little girl named Lily.");
    }
}
