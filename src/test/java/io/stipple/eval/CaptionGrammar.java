package io.stipple.eval;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads captions of the captioned-shapes grammar, and the paraphrases the dataset also writes:
 * {@code a [small|large] <color> <shape> [<position>] on a <color> background},
 * {@code a <color> <shape> and a <color> <shape> on a <color> background}, with synonyms and the terse
 * form {@code red circle, blue background}. The Python twin is parse_caption in src/training/shapes.py.
 *
 * <p>Words are matched by meaning, not by place, but every word must be known: a typo or an attribute
 * outside the grammar is an error rather than silently ignored.
 */
final class CaptionGrammar {
    private enum Kind { COLOR, SHAPE, SIZE, POSITION }

    private record Term(Kind kind, Enum<?> value) {
    }

    private static final Map<String, Term> VOCABULARY = vocabulary();
    private static final Set<String> FILLER = Set.of("a", "an", "the", "on", "at", "in", "with", "side");
    private static final Pattern WORD = Pattern.compile("[a-z]+");

    private CaptionGrammar() {
    }

    /** @throws IllegalArgumentException naming what does not fit the grammar */
    static ShapePrompt parse(String caption) {
        List<String> words = new ArrayList<>();
        Matcher matcher = WORD.matcher(caption.toLowerCase(Locale.ROOT));
        while (matcher.find()) {
            words.add(matcher.group());
        }
        int at = words.indexOf("background");
        if (at < 0 || words.lastIndexOf("background") != at) {
            throw invalid("expected one '<color> background'", caption);
        }
        Term background = at > 0 ? VOCABULARY.get(words.get(at - 1)) : null;
        if (background == null || background.kind() != Kind.COLOR) {
            throw invalid("no color before 'background'", caption);
        }
        List<List<String>> chunks = new ArrayList<>(List.of(new ArrayList<>()));
        for (int i = 0; i < words.size(); i++) {
            if (i == at - 1 || i == at) {
                continue;
            }
            if (words.get(i).equals("and")) {
                chunks.add(new ArrayList<>());
            } else {
                chunks.get(chunks.size() - 1).add(words.get(i));
            }
        }
        if (chunks.size() > 2) {
            throw invalid("at most two objects, got " + chunks.size(), caption);
        }
        List<ShapeSpec> objects = chunks.stream().map(chunk -> object(chunk, caption)).toList();
        try {
            return new ShapePrompt((PaletteColor) background.value(), objects);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage(), caption);
        }
    }

    private static ShapeSpec object(List<String> words, String caption) {
        Map<Kind, Enum<?>> found = new EnumMap<>(Kind.class);
        for (String word : words) {
            Term term = VOCABULARY.get(word);
            if (term == null) {
                if (!FILLER.contains(word)) {
                    throw invalid("unknown word '" + word + "'", caption);
                }
            } else if (found.put(term.kind(), term.value()) != null) {
                throw invalid("more than one " + term.kind().name().toLowerCase() + " for one object", caption);
            }
        }
        if (!found.containsKey(Kind.COLOR) || !found.containsKey(Kind.SHAPE)) {
            throw invalid("every object needs a color and a shape", caption);
        }
        return new ShapeSpec((PaletteColor) found.get(Kind.COLOR), (ShapeKind) found.get(Kind.SHAPE),
                (SizeClass) found.getOrDefault(Kind.SIZE, SizeClass.MEDIUM),
                (Placement) found.getOrDefault(Kind.POSITION, Placement.ANYWHERE));
    }

    private static IllegalArgumentException invalid(String why, String caption) {
        return new IllegalArgumentException(why + " in caption '" + caption + "'");
    }

    private static Map<String, Term> vocabulary() {
        Map<String, Term> words = new HashMap<>();
        for (PaletteColor color : PaletteColor.values()) {
            words.put(color.word(), new Term(Kind.COLOR, color));
        }
        for (ShapeKind shape : ShapeKind.values()) {
            words.put(shape.word(), new Term(Kind.SHAPE, shape));
        }
        for (Placement placement : Placement.values()) {
            if (placement != Placement.ANYWHERE) {
                words.put(placement.label(), new Term(Kind.POSITION, placement));
            }
        }
        words.put("small", new Term(Kind.SIZE, SizeClass.SMALL));
        words.put("large", new Term(Kind.SIZE, SizeClass.LARGE));
        // the synonyms of shapes.py's SYNONYMS table
        words.put("grey", new Term(Kind.COLOR, PaletteColor.GRAY));
        words.put("violet", new Term(Kind.COLOR, PaletteColor.PURPLE));
        words.put("disk", new Term(Kind.SHAPE, ShapeKind.CIRCLE));
        words.put("disc", new Term(Kind.SHAPE, ShapeKind.CIRCLE));
        words.put("tiny", new Term(Kind.SIZE, SizeClass.SMALL));
        words.put("little", new Term(Kind.SIZE, SizeClass.SMALL));
        words.put("big", new Term(Kind.SIZE, SizeClass.LARGE));
        words.put("middle", new Term(Kind.POSITION, Placement.CENTER));
        words.put("centre", new Term(Kind.POSITION, Placement.CENTER));
        return Map.copyOf(words);
    }
}
