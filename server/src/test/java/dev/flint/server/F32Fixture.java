package dev.flint.server;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufTensor;
import dev.flint.engine.gguf.GgufWriter;
import dev.flint.engine.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * Writes a copy of a fixture model with extra metadata (a chat template), widening F16, BF16 and Q8_0 tensors to
 * F32 on the way (written before the quantized kernels landed; it keeps the copy independent of them).
 */
final class F32Fixture {
    private F32Fixture() {
    }

    static synchronized Path of(String file, String suffix, Consumer<GgufWriter> extraMeta) throws IOException {
        Path out = Path.of(System.getProperty("java.io.tmpdir"), "flint-server-test-" + ProcessHandle.current().pid()
                + "-" + suffix + "-" + file);
        if (Files.exists(out)) {
            return out;
        }
        try (GgufFile src = GgufFile.open(TestServer.model(file))) {
            GgufWriter w = new GgufWriter();
            w.copyMetadata(src, k -> k.equals("general.alignment"));
            extraMeta.accept(w);
            for (GgufTensor t : src.tensors().values()) {
                if (t.type() == GgmlType.F32) {
                    w.addTensor(t.name(), t.type(), t.shape(), t.data().toArray(ValueLayout.JAVA_BYTE));
                } else {
                    w.addTensor(t.name(), GgmlType.F32, t.shape(), widen(t));
                }
            }
            w.write(out);
        }
        out.toFile().deleteOnExit();
        return out;
    }

    static Path of(String file) throws IOException {
        return of(file, "f32", w -> { });
    }

    private static byte[] widen(GgufTensor t) {
        int n = (int) t.elementCount();
        ByteBuffer in = t.data().asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        switch (t.type()) {
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(Float.float16ToFloat(in.getShort(i * 2)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out.putFloat(Float.intBitsToFloat((in.getShort(i * 2) & 0xffff) << 16));
                }
            }
            case Q8_0 -> { // blocks of 32: f16 scale, 32 int8
                for (int b = 0; b < n / 32; b++) {
                    float d = Float.float16ToFloat(in.getShort(b * 34));
                    for (int j = 0; j < 32; j++) {
                        out.putFloat(d * in.get(b * 34 + 2 + j));
                    }
                }
            }
            default -> throw new IllegalArgumentException("cannot widen " + t.type() + " (" + t.name() + ")");
        }
        return out.array();
    }
}
