package dev.offramp.core.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StopStringsTest {
    @Test
    void holdsBackPossiblePrefixesAndCutsAtTheMatch() {
        StopStrings s = new StopStrings(List.of("END", "\n\n"));
        assertThat(s.push("hello E")).isEqualTo("hello ");
        assertThat(s.push("N")).isEmpty();
        assertThat(s.push("Dx")).isEmpty();
        assertThat(s.matched()).isTrue();
        StopStrings t = new StopStrings(List.of("END"));
        assertThat(t.push("EN")).isEmpty();
        assertThat(t.push("o")).isEqualTo("ENo");
        assertThat(t.push("E")).isEmpty();
        assertThat(t.flush()).isEqualTo("E");
        assertThat(t.matched()).isFalse();
        StopStrings u = new StopStrings(List.of("ab", "b\n"));
        assertThat(u.push("xb\nab")).isEqualTo("x");
    }
}
