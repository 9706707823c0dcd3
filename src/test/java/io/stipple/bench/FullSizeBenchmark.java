package io.stipple.bench;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import io.stipple.model.Nnpack;
import io.stipple.model.PipelineDirectory;
import io.stipple.model.PipelineSpec;
import io.stipple.model.TorchScriptModule;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A full-size pipeline (an exported Stable Diffusion) through DJL: the time to load each module and what a
 * U-Net call at the native size costs at batch 1 and 2 (a guided image), with the process's resident memory.
 * Run with {@code mvn test -Pbenchmark -Dtest=FullSizeBenchmark -Dstipple.bench.pipeline=/models/sd15
 * [-Dstipple.bench.threads=2,1] [-Dstipple.bench.batches=1,2] [-Dstipple.bench.runs=3]}; rows go to stdout as
 * they are measured and to {@code target/benchmarks/full-size.md}. The first call of each shape is reported
 * apart: it pays for the allocator's page faults. Each row also gives the process's CPU time and minor page
 * faults over the step: on a machine other processes share, CPU time still compares runs that wall time no
 * longer does. Medians, never pass/fail.
 */
@Tag("benchmark")
class FullSizeBenchmark {
    private static final int RUNS = Integer.getInteger("stipple.bench.runs", 3);

    @Test
    void measure() throws IOException {
        String pipeline = System.getProperty("stipple.bench.pipeline");
        assumeTrue(pipeline != null, "set -Dstipple.bench.pipeline=DIR to a full-size pipeline directory");
        PipelineDirectory directory = PipelineDirectory.open(Path.of(pipeline));
        PipelineSpec spec = directory.spec();
        StringBuilder report = new StringBuilder("Pipeline ").append(spec.name()).append(" (").append(pipeline)
                .append("), ").append(Runtime.getRuntime().availableProcessors()).append(" cores, GLIBC_TUNABLES=")
                .append(System.getenv("GLIBC_TUNABLES")).append(", MALLOC_TOP_PAD_=").append(System.getenv("MALLOC_TOP_PAD_"))
                .append("\n\n| step | seconds | CPU seconds | minor page faults | resident MB (peak) |\n|---|---|---|---|---|\n");
        System.out.print(report);
        List<Integer> threadCounts = integers("stipple.bench.threads", "2");
        List<Integer> batches = integers("stipple.bench.batches", "1,2");
        List<TorchScriptModule> modules = new ArrayList<>();
        for (String file : List.of(PipelineDirectory.TEXT_ENCODER, PipelineDirectory.UNET, PipelineDirectory.VAE_DECODER)) {
            Cost start = Cost.now();
            modules.add(TorchScriptModule.load(directory.root(), file, Device.cpu()));
            row(report, "load " + file, Cost.now().minus(start));
        }
        TorchScriptModule unet = modules.get(1);
        Nnpack.disable();
        JniUtils.setGraphExecutorOptimize(false);
        int latentHeight = spec.defaultHeight() / spec.vaeScaleFactor();
        int latentWidth = spec.defaultWidth() / spec.vaeScaleFactor();
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray ids = manager.full(new Shape(2, spec.textMaxLength()), (long) spec.padTokenId(), DataType.INT64);
            NDArray hidden = modules.get(0).forward(new NDList(ids)).head();
            for (int threads : threadCounts) {
                JniUtils.setNumThreads(threads);
                matmulRate(report, manager, threads);
                for (int batch : batches) {
                    NDArray sample = manager.randomNormal(new Shape(batch, spec.latentChannels(), latentHeight, latentWidth));
                    NDArray timesteps = manager.full(new Shape(batch), 500f);
                    NDList inputs = new NDList(sample, timesteps, hidden.get("0:" + batch));
                    List<Cost> costs = new ArrayList<>();
                    for (int run = 0; run <= RUNS; run++) {
                        Cost start = Cost.now();
                        try (NDManager call = manager.newSubManager()) {
                            NDList scoped = new NDList(inputs.stream().map(array -> {
                                NDArray view = array.duplicate();
                                view.attach(call);
                                return view;
                            }).toList());
                            unet.forward(scoped);
                        }
                        Cost call = Cost.now().minus(start);
                        if (run == 0) {
                            row(report, "U-Net batch " + batch + ", " + threads + " threads, first call", call);
                        } else {
                            costs.add(call);
                        }
                    }
                    row(report, "U-Net " + latentWidth + "×" + latentHeight + " latents, batch " + batch + ", "
                            + threads + " threads (median of " + RUNS + ")", Cost.median(costs));
                }
            }
        }
        modules.forEach(TorchScriptModule::close);
        Path out = Path.of("target/benchmarks/full-size.md");
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
    }

    /** The machine's float32 matrix-multiply rate through the same libtorch: 2048² × 2048², median of 5. */
    private static void matmulRate(StringBuilder report, NDManager manager, int threads) throws IOException {
        int n = 2048;
        List<Cost> costs = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.randomNormal(new Shape(n, n));
            NDArray b = scope.randomNormal(new Shape(n, n));
            for (int run = 0; run <= 5; run++) {
                Cost start = Cost.now();
                a.matMul(b).close();
                if (run > 0) {
                    costs.add(Cost.now().minus(start));
                }
            }
        }
        Cost median = Cost.median(costs);
        row(report, String.format("matmul 2048², %d threads: %.0f GFLOP/s", threads, 2.0 * n * n * n / median.seconds() / 1e9),
                median);
    }

    private static List<Integer> integers(String property, String fallback) {
        return Arrays.stream(System.getProperty(property, fallback).split(",")).map(Integer::parseInt).toList();
    }

    private static void row(StringBuilder report, String step, Cost cost) throws IOException {
        String row = String.format("| %s | %.2f | %.2f | %d | %d (%d) |%n", step, cost.seconds(), cost.cpuSeconds(),
                cost.minorFaults(), residentMegabytes("VmRSS"), residentMegabytes("VmHWM"));
        report.append(row);
        System.out.print(row);
    }

    /** Wall time, the process's CPU time (every thread, user and kernel) and its minor page faults: totals, or a step's share. */
    private record Cost(double seconds, double cpuSeconds, long minorFaults) {
        static Cost now() throws IOException {
            // /proc/self/stat: the fields after the command's closing parenthesis start with the state (field 3);
            // minflt is field 10.
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            double cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                    .getProcessCpuTime() / 1e9;
            return new Cost(System.nanoTime() / 1e9, cpu, Long.parseLong(fields[7]));
        }

        Cost minus(Cost start) {
            return new Cost(seconds - start.seconds, cpuSeconds - start.cpuSeconds, minorFaults - start.minorFaults);
        }

        /** Each column's median on its own. */
        static Cost median(List<Cost> costs) {
            int middle = costs.size() / 2;
            return new Cost(costs.stream().mapToDouble(Cost::seconds).sorted().toArray()[middle],
                    costs.stream().mapToDouble(Cost::cpuSeconds).sorted().toArray()[middle],
                    costs.stream().mapToLong(Cost::minorFaults).sorted().toArray()[middle]);
        }
    }

    private static long residentMegabytes(String field) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(line -> line.startsWith(field + ":"))
                .mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")) / 1024).findFirst().orElse(-1);
    }
}
