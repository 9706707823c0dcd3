package io.stipple.reliability;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * The draws fuzz cases are made of, all from one {@link SplittableRandom}: the same seed gives the same
 * draws in the same order, so a case follows from its seed alone (FuzzRun says which seed each case gets).
 */
final class FuzzRandom {
    static final String LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    /** One choice of {@link #frequency}: drawn from as often as its weight says. */
    record Weighted<T>(int weight, Function<FuzzRandom, ? extends T> generator) {
    }

    private final SplittableRandom random;

    FuzzRandom(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A uniform int from {@code min} to {@code max}, both included. */
    int between(int min, int max) {
        return random.nextInt(min, max + 1);
    }

    /** A uniform long from {@code min} to {@code max}, both included. */
    long between(long min, long max) {
        return random.nextLong(min, max + 1);
    }

    boolean coin() {
        return random.nextBoolean();
    }

    <T> T pick(List<T> values) {
        return values.get(random.nextInt(values.size()));
    }

    @SafeVarargs
    final <T> T pick(T... values) {
        return values[random.nextInt(values.length)];
    }

    /** Draws from one of the generators, each as likely as the others. */
    @SafeVarargs
    final <T> T oneOf(Function<FuzzRandom, ? extends T>... generators) {
        return pick(generators).apply(this);
    }

    /** Draws from one of the choices, each as likely as its weight. */
    @SafeVarargs
    final <T> T frequency(Weighted<? extends T>... choices) {
        int total = 0;
        for (Weighted<? extends T> choice : choices) {
            total += choice.weight();
        }
        int draw = random.nextInt(total);
        for (Weighted<? extends T> choice : choices) {
            draw -= choice.weight();
            if (draw < 0) {
                return choice.generator().apply(this);
            }
        }
        throw new IllegalStateException("weights changed while drawing");
    }

    <T> List<T> list(int minSize, int maxSize, Function<FuzzRandom, T> element) {
        int size = between(minSize, maxSize);
        List<T> items = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            items.add(element.apply(this));
        }
        return items;
    }

    /** Any int; those near zero, where most limits are, as often as all the others. */
    int anyInt() {
        return coin() ? between(-1000, 1000) : random.nextInt();
    }

    long anyLong() {
        return random.nextLong();
    }

    /** Any finite double; plain fractions as often as arbitrary bit patterns (subnormals, 1e300, -0.0). */
    double anyDouble() {
        if (coin()) {
            return random.nextDouble(-1000, 1000);
        }
        double value;
        do {
            value = Double.longBitsToDouble(random.nextLong());
        } while (!Double.isFinite(value));
        return value;
    }

    /** Any UTF-16 unit: printable ASCII as often as all the others (controls, lone surrogates, U+FFFF). */
    char anyChar() {
        return coin() ? (char) between(0x20, 0x7e) : (char) random.nextInt(0x10000);
    }

    /** Up to {@code maxLength} of {@link #anyChar()}. */
    String text(int maxLength) {
        return chars(0, maxLength, this::anyChar);
    }

    /** {@code minLength} to {@code maxLength} characters of {@code alphabet}. */
    String string(String alphabet, int minLength, int maxLength) {
        return chars(minLength, maxLength, () -> alphabet.charAt(random.nextInt(alphabet.length())));
    }

    /** Up to {@code maxLength} printable ASCII characters: what an HTTP client can send in a header value. */
    String printable(int maxLength) {
        return chars(0, maxLength, () -> (char) between(0x20, 0x7e));
    }

    private String chars(int minLength, int maxLength, IntSupplier next) {
        StringBuilder text = new StringBuilder();
        for (int length = between(minLength, maxLength); text.length() < length; ) {
            text.append((char) next.getAsInt());
        }
        return text.toString();
    }
}
