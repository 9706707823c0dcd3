package io.stipple.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The CPU as an operator needs it in the log to read CPU timings: its model, the cores this process may use,
 * and which of the vector extensions that libtorch picks its kernels by it has. Read from
 * {@code /proc/cpuinfo} ({@code flags} on x86, {@code Features} on ARM), never assumed: a machine without
 * the file is described by its cores alone.
 */
final class CpuDescription {
    /** x86 in the order of libtorch's kernel levels (AVX2, AVX-512), then lower precisions; then ARM's. */
    private static final List<String> VECTOR_FLAGS = List.of("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16",
            "avx512_fp16", "amx_bf16", "asimd", "sve");

    private CpuDescription() {
    }

    /** For example {@code AMD EPYC, 2 cores, avx2 fma avx512f avx512_vnni avx512_bf16}. */
    static String of(Path cpuinfo, int cores) {
        String coresText = cores + (cores == 1 ? " core" : " cores");
        List<String> lines;
        try {
            lines = Files.readAllLines(cpuinfo);
        } catch (IOException unreadable) {
            return coresText;
        }
        Optional<String> model = field(lines, "model name");
        Set<String> flags = field(lines, "flags").or(() -> field(lines, "Features"))
                .map(text -> Set.of(text.split("\\s+"))).orElse(Set.of());
        List<String> vector = VECTOR_FLAGS.stream().filter(flags::contains).toList();
        return model.map(name -> name + ", ").orElse("") + coresText + ", "
                + (vector.isEmpty() ? "none of " + String.join(" ", VECTOR_FLAGS) : String.join(" ", vector));
    }

    private static Optional<String> field(List<String> lines, String name) {
        return lines.stream().map(line -> line.split(":", 2))
                .filter(pair -> pair.length == 2 && pair[0].strip().equals(name)).map(pair -> pair[1].strip()).findFirst();
    }
}
