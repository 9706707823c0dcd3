package io.stipple.reliability;

import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** What a run sent and got, in counts: per category and per status, printed once at the end. */
final class FuzzStatistics {
    private final Map<String, Integer> categories = new TreeMap<>();
    private final Map<Integer, Integer> statuses = new TreeMap<>();
    private int sent;

    void count(FuzzRequest request, int status) {
        sent++;
        categories.merge(request.category(), 1, Integer::sum);
        statuses.merge(status, 1, Integer::sum);
    }

    int sent() {
        return sent;
    }

    /** Two lines, the largest counts first. */
    String summary() {
        return "HTTP API fuzzing: " + sent + (sent == 1 ? " request: " : " requests: ") + mostFirst(categories, " ")
                + "\n  answers: " + mostFirst(statuses, " × ");
    }

    private static <K> String mostFirst(Map<K, Integer> counts, String separator) {
        return counts.entrySet().stream().sorted(Map.Entry.<K, Integer>comparingByValue(Comparator.reverseOrder()))
                .map(entry -> entry.getKey() + separator + entry.getValue())
                .collect(Collectors.joining(", "));
    }
}
