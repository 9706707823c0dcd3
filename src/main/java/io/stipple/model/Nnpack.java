package io.stipple.model;

import ai.djl.pytorch.jni.LibUtils;
import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns libtorch's NNPACK convolutions off. On CPUs NNPACK does not support (most x86 servers), libtorch
 * tries to initialise it on every batch-1 convolution and prints "Could not initialize NNPACK! Reason:
 * Unsupported hardware." each time, hundreds of lines per request, which buries every real log line. Such
 * convolutions fall back to the regular kernels anyway, so switching NNPACK off changes no result and costs
 * nothing per step. DJL has no setting for it: this is {@code at::globalContext().setUserEnabledNNPACK(false)},
 * called through JNA on libtorch's exported C++ symbols (Itanium ABI: the context is the first argument).
 */
public final class Nnpack {
    private static final Logger log = LoggerFactory.getLogger(Nnpack.class);
    private static final String GLOBAL_CONTEXT = "_ZN2at13globalContextEv";
    private static final String SET_USER_ENABLED = "_ZN2at7Context20setUserEnabledNNPACKEb";
    private static final String USER_ENABLED = "_ZNK2at7Context17userEnabledNNPACKEv";

    private Nnpack() {
    }

    /** Disables NNPACK in the loaded libtorch; returns whether it is now off. Call after DJL loaded libtorch. */
    public static boolean disable() {
        Path library = Path.of(LibUtils.getLibtorchPath()).resolve(System.mapLibraryName("torch_cpu"));
        if (!Files.isRegularFile(library)) {
            log.warn("Could not find {}; NNPACK stays on (expect native \"Could not initialize NNPACK\" lines)", library);
            return false;
        }
        try {
            NativeLibrary torch = NativeLibrary.getInstance(library.toString());
            Pointer context = torch.getFunction(GLOBAL_CONTEXT).invokePointer(new Object[0]);
            torch.getFunction(SET_USER_ENABLED).invokeVoid(new Object[] {context, false});
            return !enabled(torch.getFunction(USER_ENABLED), context);
        } catch (UnsatisfiedLinkError e) {
            log.warn("This libtorch does not export the NNPACK switch ({}); NNPACK stays on", e.getMessage());
            return false;
        }
    }

    /** A C++ {@code bool} comes back in the low byte of the return register only. */
    private static boolean enabled(Function userEnabled, Pointer context) {
        return (userEnabled.invokeInt(new Object[] {context}) & 0xFF) != 0;
    }
}
