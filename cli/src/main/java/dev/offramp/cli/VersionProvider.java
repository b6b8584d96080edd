package dev.offramp.cli;

import picocli.CommandLine;

/** Reads the version from the jar manifest, so it is written in one place (the pom). */
final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = OfframpCli.class.getPackage().getImplementationVersion();
        return new String[] {
                "offramp " + (v == null ? "(development build)" : v),
                "JVM: " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")",
        };
    }
}
