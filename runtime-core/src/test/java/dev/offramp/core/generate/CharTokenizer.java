package dev.offramp.core.generate;

import dev.offramp.core.tokenizer.Tokenizer;

/** One token per character of a fixed alphabet (ids from 3), BOS 1, EOS 2: enough to test generation plumbing. */
final class CharTokenizer implements Tokenizer {
    static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz .,!?'\n-";

    @Override
    public int vocabSize() {
        return 3 + ALPHABET.length();
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        int[] out = new int[text.length() + (addSpecial ? 1 : 0)];
        int o = 0;
        if (addSpecial) {
            out[o++] = 1;
        }
        for (char ch : text.toCharArray()) {
            int i = ALPHABET.indexOf(ch);
            out[o++] = i < 0 ? 0 : 3 + i;
        }
        return out;
    }

    @Override
    public String decode(int[] ids, boolean renderSpecial) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(piece(id));
        }
        return sb.toString();
    }

    @Override
    public StreamingDecoder streamingDecoder() {
        return new StreamingDecoder() {
            @Override
            public String next(int id) {
                return piece(id);
            }

            @Override
            public String flush() {
                return "";
            }
        };
    }

    @Override
    public int bos() {
        return 1;
    }

    @Override
    public int eos() {
        return 2;
    }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id == 2;
    }

    @Override
    public String piece(int id) {
        return id >= 3 ? String.valueOf(ALPHABET.charAt(id - 3)) : "";
    }
}
