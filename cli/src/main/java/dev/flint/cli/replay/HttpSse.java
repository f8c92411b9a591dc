package dev.flint.cli.replay;

import javax.net.ssl.SSLSocketFactory;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * A minimal HTTP/1.1 client for one streamed POST per connection, the way llama.vim's curl talks to the server: a
 * new connection per request, and cancelling means closing it. Raw sockets rather than {@code java.net.http} so
 * that a cancel really closes the TCP connection at once (which is what the server must notice) and the first
 * streamed event is timed when its bytes arrive.
 */
final class HttpSse implements AutoCloseable {
    private final Socket socket;
    private InputStream body;
    int status;
    String contentType = "";

    private HttpSse(Socket socket) {
        this.socket = socket;
    }

    static HttpSse connect(URI uri, int timeoutMs) throws IOException {
        boolean tls = "https".equals(uri.getScheme());
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        Socket s = tls ? SSLSocketFactory.getDefault().createSocket() : new Socket();
        try {
            s.connect(new InetSocketAddress(uri.getHost(), port), timeoutMs);
            s.setTcpNoDelay(true);
            s.setSoTimeout(timeoutMs);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        return new HttpSse(s);
    }

    /** Sends the request and reads the status line and headers. */
    void post(URI uri, String apiKey, byte[] json) throws IOException {
        StringBuilder head = new StringBuilder();
        String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
        head.append("POST ").append(path).append(" HTTP/1.1\r\n")
                .append("Host: ").append(uri.getHost()).append(uri.getPort() > 0 ? ":" + uri.getPort() : "")
                .append("\r\nAccept: */*\r\nContent-Type: application/json\r\nContent-Length: ").append(json.length)
                .append("\r\nConnection: close\r\n");
        if (apiKey != null && !apiKey.isEmpty()) {
            head.append("Authorization: Bearer ").append(apiKey).append("\r\n");
        }
        head.append("\r\n");
        OutputStream out = socket.getOutputStream();
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(json);
        out.flush();
        InputStream in = new BufferedInputStream(socket.getInputStream());
        String statusLine = line(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/")) {
            throw new IOException("not an HTTP response: '" + statusLine + "'");
        }
        status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        String h;
        while (!(h = line(in)).isEmpty()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("content-length")) {
                length = Long.parseLong(value);
            } else if (name.equalsIgnoreCase("transfer-encoding") && value.toLowerCase().contains("chunked")) {
                chunked = true;
            } else if (name.equalsIgnoreCase("content-type")) {
                contentType = value;
            }
        }
        body = chunked ? new Chunked(in) : length >= 0 ? new Bounded(in, length) : in;
    }

    /** The next line of the body (without CR/LF), or null at its end. */
    String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = body.read()) >= 0 && c != '\n') {
            b.write(c);
        }
        if (c < 0 && b.size() == 0) {
            return null;
        }
        String s = b.toString(StandardCharsets.UTF_8);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    String readAll() throws IOException {
        return new String(body.readAllBytes(), StandardCharsets.UTF_8);
    }

    /** Closes the connection; from another thread this is the cancel (the reader then gets an exception). */
    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        if (c < 0 && b.size() == 0) {
            throw new EOFException("the server closed the connection");
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Transfer-Encoding: chunked (how Jetty and llama.cpp's httplib send streamed responses). */
    private static final class Chunked extends InputStream {
        private final InputStream in;
        private long left;
        private boolean started;
        private boolean eof;

        Chunked(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (eof) {
                return -1;
            }
            if (left == 0) {
                if (started) {
                    line(in); // the CRLF after the previous chunk's data
                }
                started = true;
                String size = line(in);
                int semi = size.indexOf(';');
                try {
                    left = Long.parseLong((semi < 0 ? size : size.substring(0, semi)).trim(), 16);
                } catch (NumberFormatException e) {
                    throw new IOException("bad chunk size '" + size + "'");
                }
                if (left == 0) {
                    eof = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new EOFException("the connection closed inside a chunk");
            }
            left -= n;
            return n;
        }
    }

    private static final class Bounded extends InputStream {
        private final InputStream in;
        private long left;

        Bounded(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            if (left <= 0) {
                return -1;
            }
            int c = in.read();
            if (c >= 0) {
                left--;
            }
            return c;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n > 0) {
                left -= n;
            }
            return n;
        }
    }
}
