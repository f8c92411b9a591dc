package dev.flint.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.server.FlintServer;
import dev.flint.server.ModelService;
import dev.flint.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code flint bench-server}: starts the server in-process on loopback and measures, from the client's side,
 * (1) per-request overhead with {@code max_tokens 1} for a new HTTP connection per request (what llama.vim's curl
 * does), HTTP keep-alive, and one WebSocket; overhead = round trip − the server's own compute time for that request
 * (its reported timings), so it is what the transport costs; and (2) time to first token with 1, 4 and 8
 * concurrent streams over WebSockets. Medians over several runs.
 */
@Command(name = "bench-server", mixinStandardHelpOptions = true,
        description = "Per-request transport overhead (new connection, keep-alive, WebSocket) and TTFT under load.")
final class BenchServerCommand extends CliCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = {"-m", "--model"}, required = true, description = "GGUF model file")
    java.nio.file.Path model;

    @Option(names = {"-t", "--threads"}, description = "compute threads (default: available CPUs)")
    int threads;

    @Option(names = "--requests", defaultValue = "300", description = "requests per transport per run (default 300)")
    int requests;

    @Option(names = "--runs", defaultValue = "5", description = "runs; medians are reported (default 5)")
    int runs;

    @Option(names = "--ttft-tokens", defaultValue = "16", description = "tokens per stream in the TTFT test")
    int ttftTokens;

    @Override
    public Integer call() throws Exception {
        try (Engine engine = Engine.load(model, EngineOptions.defaults().withThreads(threads).withContextLength(512));
             ModelService service = new ModelService(engine, model, new SchedulerOptions(8, 512, 64, 64));
             FlintServer server = new FlintServer(service, ServerConfig.loopback(0)).start()) {
            int port = server.port();
            out().printf("model %s, %d threads, JDK %s, %d cores%n", service.modelId(), engine.pool().threads(),
                    Runtime.version(), Runtime.getRuntime().availableProcessors());
            String body = "{\"prompt\":\"Once upon a time\",\"n_predict\":1,\"temperature\":0,\"cache_prompt\":true}";
            String wsMsg = "{\"type\":\"complete\",\"id\":\"%d\",\"prompt\":\"Once upon a time\",\"max_tokens\":1}";
            double[][] res = new double[3][];
            double[][] rtt = new double[3][];
            List<double[]> ov = new ArrayList<>(List.of(new double[runs], new double[runs], new double[runs]));
            List<double[]> rt = new ArrayList<>(List.of(new double[runs], new double[runs], new double[runs]));
            for (int run = -1; run < runs; run++) { // run -1 warms up
                int n = run < 0 ? Math.max(50, requests / 3) : requests;
                res[0] = newConnection(port, body, n);
                res[1] = keepAlive(port, body, n);
                res[2] = webSocket(port, wsMsg, n);
                if (run >= 0) {
                    for (int k = 0; k < 3; k++) {
                        ov.get(k)[run] = median(column(res[k], 0));
                        rt.get(k)[run] = median(column(res[k], 1));
                    }
                }
            }
            String[] names = {"new HTTP connection per request", "HTTP keep-alive", "one WebSocket"};
            out().println("| transport | round trip p50 (ms) | overhead p50 (ms) |");
            out().println("| --- | --- | --- |");
            for (int k = 0; k < 3; k++) {
                out().printf("| %s | %.3f | %.3f |%n", names[k], median(rt.get(k)), median(ov.get(k)));
            }
            double[] curl = curlPerRequest(port, body, Math.min(requests, 100));
            if (curl != null) {
                out().printf("| curl process per request (llama.vim's way) | %.3f | %.3f |%n", median(column(curl, 1)),
                        median(column(curl, 0)));
            }
            out().printf("WebSocket overhead vs new connection: %.0f %% lower; vs keep-alive: %.0f %% lower%n",
                    100 * (1 - median(ov.get(2)) / median(ov.get(0))), 100 * (1 - median(ov.get(2)) / median(ov.get(1))));
            if (curl != null) {
                out().printf("WebSocket overhead vs a curl process per request: %.0f %% lower%n",
                        100 * (1 - median(ov.get(2)) / median(column(curl, 0))));
            }
            out().println();
            out().println("| concurrent streams | TTFT p50 (ms) | TTFT p95 (ms) | aggregate tok/s |");
            out().println("| --- | --- | --- | --- |");
            for (int streams : new int[] {1, 4, 8}) {
                ttft(port, streams, 2); // warm-up
                List<Double> all = new ArrayList<>();
                double tps = 0;
                double[] perRun = new double[runs];
                for (int run = 0; run < runs; run++) {
                    double[] r = ttft(port, streams, ttftTokens);
                    for (int i = 0; i < streams; i++) {
                        all.add(r[i]);
                    }
                    perRun[run] = r[streams];
                }
                tps = median(perRun);
                double[] a = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                out().printf("| %d | %.2f | %.2f | %.0f |%n", streams, percentile(a, 0.5), percentile(a, 0.95), tps);
            }
            out().flush();
        }
        return 0;
    }

    /** As llama.vim sends requests: one curl process per request (null when curl is not installed). */
    private static double[] curlPerRequest(int port, String body, int n) throws Exception {
        double[] out = new double[n * 2];
        for (int i = -5; i < n; i++) {
            long t0 = System.nanoTime();
            Process p;
            try {
                p = new ProcessBuilder("curl", "-s", "-H", "Content-Type: application/json", "-d", body,
                        "http://127.0.0.1:" + port + "/completion").redirectErrorStream(true).start();
            } catch (IOException e) {
                return null;
            }
            byte[] resp = p.getInputStream().readAllBytes();
            if (p.waitFor() != 0) {
                return null;
            }
            if (i >= 0) {
                record(out, i, t0, serverMs(JSON.readTree(resp)));
            }
        }
        return out;
    }

    /** Rows of {overhead, round trip} in ms; a new TCP connection per request with Connection: close. */
    private static double[] newConnection(int port, String body, int n) throws IOException {
        double[] out = new double[n * 2];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            try (Socket s = new Socket("127.0.0.1", port)) {
                s.setTcpNoDelay(true);
                JsonNode r = exchange(s.getOutputStream(), new BufferedInputStream(s.getInputStream()), port, body, true);
                record(out, i, t0, serverMs(r));
            }
        }
        return out;
    }

    private static double[] keepAlive(int port, String body, int n) throws IOException {
        double[] out = new double[n * 2];
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setTcpNoDelay(true);
            OutputStream os = s.getOutputStream();
            InputStream is = new BufferedInputStream(s.getInputStream());
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                JsonNode r = exchange(os, is, port, body, false);
                record(out, i, t0, serverMs(r));
            }
        }
        return out;
    }

    private static double[] webSocket(int port, String msg, int n) throws Exception {
        LinkedBlockingQueue<JsonNode> inbox = new LinkedBlockingQueue<>();
        WebSocket ws = wsConnect(port, inbox);
        inbox.take(); // hello
        double[] out = new double[n * 2];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            ws.sendText(msg.formatted(i), true);
            JsonNode m;
            do {
                m = inbox.poll(30, TimeUnit.SECONDS);
                if (m != null && "error".equals(m.path("type").asText())) {
                    throw new IOException("the server refused a request: " + m);
                }
            } while (m != null && !"done".equals(m.path("type").asText()));
            if (m == null) {
                throw new IOException("no answer over the WebSocket");
            }
            record(out, i, t0, m.at("/timings/prompt_ms").asDouble() + m.at("/timings/predicted_ms").asDouble());
        }
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
        return out;
    }

    /** TTFT of each of {@code streams} concurrent WebSocket requests (distinct prompts), then aggregate tok/s. */
    private static double[] ttft(int port, int streams, int tokens) throws Exception {
        List<WebSocket> sockets = new ArrayList<>();
        List<LinkedBlockingQueue<JsonNode>> inboxes = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
            var q = new LinkedBlockingQueue<JsonNode>();
            sockets.add(wsConnect(port, q));
            q.take();
            inboxes.add(q);
        }
        List<CompletableFuture<double[]>> fs = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < streams; i++) {
            int k = i;
            long t0 = System.nanoTime();
            sockets.get(i).sendText("{\"type\":\"complete\",\"id\":\"t\",\"prompt\":\"Story " + i + " " + start
                    + ": once upon a time\",\"max_tokens\":" + tokens + ",\"ignore_eos\":true}", true);
            fs.add(CompletableFuture.supplyAsync(() -> {
                double first = -1;
                try {
                    while (true) {
                        JsonNode m = inboxes.get(k).poll(60, TimeUnit.SECONDS);
                        if (m == null) {
                            throw new IllegalStateException("stream timed out");
                        }
                        if (first < 0 && m.path("type").asText().equals("delta")) {
                            first = (System.nanoTime() - t0) / 1e6;
                        }
                        if (m.path("type").asText().equals("done")) {
                            if (first < 0) {
                                first = (System.nanoTime() - t0) / 1e6;
                            }
                            return new double[] {first, m.at("/usage/completion_tokens").asInt()};
                        }
                    }
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()));
        }
        double[] out = new double[streams + 1];
        double tokensOut = 0;
        for (int i = 0; i < streams; i++) {
            double[] r = fs.get(i).get();
            out[i] = r[0];
            tokensOut += r[1];
        }
        out[streams] = tokensOut / ((System.nanoTime() - start) / 1e9);
        for (WebSocket ws : sockets) {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").join();
        }
        return out;
    }

    private static WebSocket wsConnect(int port, LinkedBlockingQueue<JsonNode> inbox) throws Exception {
        return HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(
                URI.create("ws://127.0.0.1:" + port + "/v1/ws"), new WebSocket.Listener() {
                    final StringBuilder buf = new StringBuilder();

                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        buf.append(data);
                        if (last) {
                            try {
                                inbox.add(JSON.readTree(buf.toString()));
                            } catch (IOException e) {
                                throw new IllegalStateException(e);
                            }
                            buf.setLength(0);
                        }
                        w.request(1);
                        return null;
                    }
                }).get(10, TimeUnit.SECONDS);
    }

    /** One HTTP/1.1 request on a raw socket, as a minimal client (curl-like) sends it; reads a Content-Length body. */
    private static JsonNode exchange(OutputStream os, InputStream is, int port, String body, boolean close)
            throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        os.write(("POST /completion HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + b.length + "\r\n" + (close ? "Connection: close\r\n" : "") + "\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        os.write(b);
        os.flush();
        int length = -1;
        String line;
        while (!(line = readLine(is)).isEmpty()) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        if (length < 0) {
            throw new IOException("response without Content-Length");
        }
        return JSON.readTree(is.readNBytes(length));
    }

    private static String readLine(InputStream is) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int c;
        while ((c = is.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                line.write(c);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static double serverMs(JsonNode r) {
        return r.at("/timings/prompt_ms").asDouble() + r.at("/timings/predicted_ms").asDouble();
    }

    private static void record(double[] out, int i, long t0, double serverMs) {
        double rtt = (System.nanoTime() - t0) / 1e6;
        out[2 * i] = rtt - serverMs;
        out[2 * i + 1] = rtt;
    }

    private static double[] column(double[] rows, int c) {
        double[] out = new double[rows.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = rows[2 * i + c];
        }
        return out;
    }

    private static double median(double[] a) {
        return percentile(Arrays.stream(a).sorted().toArray(), 0.5);
    }

    private static double percentile(double[] sorted, double p) {
        int i = (int) Math.min(sorted.length - 1, Math.round(p * (sorted.length - 1)));
        return sorted[i];
    }
}
