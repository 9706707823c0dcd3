package io.stipple.eval;

import java.util.List;
import java.util.stream.Collectors;

/** How an image matches a caption, attribute by attribute. */
record Verdict(String caption, List<Check> checks) {
    Verdict {
        checks = List.copyOf(checks);
    }

    boolean allRight() {
        return checks.stream().allMatch(Check::right);
    }

    List<Check> wrong() {
        return checks.stream().filter(check -> !check.right()).toList();
    }

    /** The check of one attribute of one object (0: the background). */
    Check check(int object, Attribute attribute) {
        return checks.stream().filter(c -> c.object() == object && c.attribute() == attribute).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("'" + caption + "' checks no " + attribute.label()
                        + (object == 0 ? "" : " of object " + object)));
    }

    @Override
    public String toString() {
        return "'" + caption + "': " + checks.stream().map(Check::toString).collect(Collectors.joining("; "));
    }
}
