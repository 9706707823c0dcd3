package io.stipple.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the startup line says of a CPU, from /proc/cpuinfo texts of an x86 and an ARM machine. */
class CpuDescriptionTest {
    @TempDir
    Path directory;

    @Test
    void namesTheModelTheCoresAndTheVectorExtensionsItFinds() throws IOException {
        Path cpuinfo = Files.writeString(directory.resolve("cpuinfo"), """
                processor\t: 0
                vendor_id\t: GenuineIntel
                model name\t: Intel(R) Xeon(R) Platinum 8480+
                flags\t\t: fpu sse4_2 avx avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16 amx_tile
                processor\t: 1
                model name\t: Intel(R) Xeon(R) Platinum 8480+
                """);
        assertEquals("Intel(R) Xeon(R) Platinum 8480+, 4 cores, avx2 fma avx512f avx512_vnni avx512_bf16 amx_bf16",
                CpuDescription.of(cpuinfo, 4));
    }

    @Test
    void readsArmFeaturesAndSaysWhatIsMissing() throws IOException {
        Path arm = Files.writeString(directory.resolve("arm"), "processor\t: 0\nFeatures\t: fp asimd evtstrm aes sve\n");
        assertEquals("1 core, asimd sve", CpuDescription.of(arm, 1));
        Path old = Files.writeString(directory.resolve("old"), "model name\t: QEMU Virtual CPU\nflags\t\t: fpu sse2\n");
        assertEquals("QEMU Virtual CPU, 2 cores, none of avx2 fma avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_bf16 asimd sve",
                CpuDescription.of(old, 2));
        assertEquals("8 cores", CpuDescription.of(directory.resolve("absent"), 8));
    }
}
