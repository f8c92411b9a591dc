package dev.flint.engine.model;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * The C library's single-precision cosf, sinf, powf and tanhf, called through the FFM API. llama.cpp builds RoPE
 * angles and its GELU table with these; they are not always correctly rounded, and Java's Math functions (correctly
 * rounded in double, then narrowed) sometimes differ by one ulp — enough to move the chaotic reference models. Falls
 * back to Java's Math where the C library cannot be found.
 */
final class CMath {
    private static final MethodHandle COSF = find("cosf", 1);
    private static final MethodHandle SINF = find("sinf", 1);
    private static final MethodHandle POWF = find("powf", 2);
    private static final MethodHandle TANHF = find("tanhf", 1);

    private CMath() {}

    private static MethodHandle find(String name, int args) {
        try {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libm = SymbolLookup.libraryLookup("libm.so.6", java.lang.foreign.Arena.global());
            var symbol = libm.find(name).or(() -> linker.defaultLookup().find(name));
            if (symbol.isEmpty()) {
                return null;
            }
            FunctionDescriptor fd = args == 1
                    ? FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT)
                    : FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT);
            return linker.downcallHandle(symbol.get(), fd, Linker.Option.critical(false));
        } catch (Throwable e) {
            return null; // not glibc, or native access denied: use Java's functions
        }
    }

    static float cosf(float x) {
        if (COSF != null) {
            try {
                return (float) COSF.invokeExact(x);
            } catch (Throwable ignored) {
                // fall through
            }
        }
        return (float) Math.cos(x);
    }

    static float sinf(float x) {
        if (SINF != null) {
            try {
                return (float) SINF.invokeExact(x);
            } catch (Throwable ignored) {
                // fall through
            }
        }
        return (float) Math.sin(x);
    }

    static float powf(float x, float y) {
        if (POWF != null) {
            try {
                return (float) POWF.invokeExact(x, y);
            } catch (Throwable ignored) {
                // fall through
            }
        }
        return (float) Math.pow(x, y);
    }

    static float tanhf(float x) {
        if (TANHF != null) {
            try {
                return (float) TANHF.invokeExact(x);
            } catch (Throwable ignored) {
                // fall through
            }
        }
        return (float) Math.tanh(x);
    }
}
