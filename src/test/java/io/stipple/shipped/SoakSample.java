package io.stipple.shipped;

import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * What the server held at one moment of the soak: {@code seconds} since the load began, with
 * {@code requests} of the mix finished by then. Memory in MiB; the heap is what survived a full GC.
 */
record SoakSample(double seconds, int requests, double rssMib, double heapMib, double threads, double ndArrays) {
    static final String CSV_HEADER = "seconds,requests,rss_mib,heap_after_gc_mib,threads,ndarrays";

    /** The series the soak checks for growth, by name, with how to read each from a sample. */
    enum Series {
        RSS("RSS", "MiB", SoakSample::rssMib),
        HEAP("heap after GC", "MiB", SoakSample::heapMib),
        THREADS("live threads", "", SoakSample::threads),
        NDARRAYS("live NDArrays", "", SoakSample::ndArrays);

        final String title;
        final String unit;
        final ToDoubleFunction<SoakSample> value;

        Series(String title, String unit, ToDoubleFunction<SoakSample> value) {
            this.title = title;
            this.unit = unit;
            this.value = value;
        }

        double of(SoakSample sample) {
            return value.applyAsDouble(sample);
        }

        List<Double> of(List<SoakSample> samples) {
            return samples.stream().map(this::of).toList();
        }
    }

    String csv() {
        return String.format(Locale.ROOT, "%.1f,%d,%.1f,%.1f,%.0f,%.0f", seconds, requests, rssMib, heapMib, threads,
                ndArrays);
    }
}
