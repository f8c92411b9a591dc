package dev.flint.engine.gguf;

/** GGUF metadata value types, by their on-disk ids. */
enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Bytes of one value, or -1 when variable. */
    final int size;

    GgufValueType(int size) {
        this.size = size;
    }

    static GgufValueType byId(int id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[id] : null;
    }
}
