package dev.flint.cli.replay;

/** How keystrokes reach a server: llama.cpp's {@code /infill} over HTTP, or Flint's WebSocket protocol. */
public interface Transport extends AutoCloseable {
    /** Called once, before the first key, with the document as it is after the range was deleted. */
    void open(String doc) throws Exception;

    /**
     * Key {@code key} typed {@code typed} at UTF-16 offset {@code at}; {@code doc} and {@code cursor} are the state
     * after it. Sends the FIM request and returns at once; the attempt is filled in as answers arrive.
     */
    Attempt send(int key, String typed, int at, String doc, int cursor) throws Exception;

    @Override
    void close();
}
