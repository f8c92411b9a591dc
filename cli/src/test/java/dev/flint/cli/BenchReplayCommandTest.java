package dev.flint.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.Fixtures;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.server.FlintServer;
import dev.flint.server.ModelService;
import dev.flint.server.ServerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** {@code flint bench replay} against a real Flint server on loopback (one slot, a FIM-capable fixture model). */
class BenchReplayCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SOURCE = """
            import math


            def area(radius):
                return math.pi * radius * radius


            def add(a, b):
                total = a + b
                return total


            def main():
                print(add(1, 2))
                print(area(2.0))


            if __name__ == "__main__":
                main()
            """;

    @TempDir
    static Path dir;
    static Path source;
    static Engine engine;
    static ModelService service;
    static FlintServer server;

    @BeforeAll
    static void start() throws Exception {
        Path model = Fixtures.model("tiny-qwen2-F16.gguf");
        engine = Engine.load(model, EngineOptions.defaults().withThreads(1).withWarmup(false).withContextLength(512));
        // One slot, so every keystroke lands on the cache the previous one left.
        service = new ModelService(engine, model, new SchedulerOptions(1, 512, 16, 64));
        server = new FlintServer(service, new ServerConfig("127.0.0.1", 0, null, false,
                ServerConfig.DEFAULT_MAX_BODY)).start();
        source = dir.resolve("shapes.py");
        Files.writeString(source, SOURCE);
    }

    @AfterAll
    static void stop() {
        server.close();
        service.close();
        engine.close();
    }

    private static JsonNode replay(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("bench", "replay", "--file", source.toString(),
                "--url", "http://127.0.0.1:" + server.port(), "--json"));
        args.addAll(List.of(extra));
        CliRunner r = CliRunner.run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err() + r.out());
        return JSON.readTree(r.out());
    }

    /** "total = a + b" on line 9 (1-based), columns 5 to the end: 13 keys. */
    private static final String[] RANGE = {"--from", "9:5", "--to", "9:18"};

    private static void assertOneCompletedRequestPerKeyWithReuse(JsonNode r) {
        assertEquals(13, r.get("keys").asInt());
        assertEquals(2, r.get("warmup").asInt());
        assertEquals(11, r.get("requests").asInt());
        assertEquals(11, r.get("completed").asInt());
        assertEquals(0, r.get("cancelled").asInt());
        assertEquals(0, r.get("failed").asInt());
        assertEquals(13, r.get("per_key").size());
        for (String m : new String[] {"ttft_ms", "total_ms"}) {
            JsonNode s = r.get(m);
            assertEquals(11, s.get("n").asInt(), m);
            assertTrue(s.get("p50").asDouble() > 0, m);
            assertTrue(s.get("p50").asDouble() <= s.get("p95").asDouble(), m);
            assertTrue(s.get("p95").asDouble() <= s.get("p99").asDouble(), m);
        }
        StringBuilder typed = new StringBuilder();
        for (JsonNode k : r.get("per_key")) {
            typed.append(k.get("typed").asText());
            assertEquals("completed", k.get("status").asText(), k.toString());
            assertTrue(k.get("ttft_ms").asDouble() <= k.get("total_ms").asDouble(), k.toString());
            int prompt = k.get("prompt_tokens").asInt();
            assertEquals(prompt, k.get("reused_tokens").asInt() + k.get("computed_tokens").asInt(), k.toString());
            assertTrue(k.get("computed_tokens").asInt() >= 1, k.toString());
            if (k.get("key").asInt() > 0) {
                // The lines before the cursor line are the same for every keystroke: the server reuses them.
                assertTrue(k.get("reused_tokens").asInt() > 0, k.toString());
            }
        }
        assertEquals("total = a + b", typed.toString());
        assertTrue(r.at("/reused_tokens/p50").asDouble() > 0, r.toString());
    }

    @Test
    void infillReplaySendsOneRequestPerKeystrokeAndTheServerReusesTheSharedPrefix() throws Exception {
        JsonNode r = replay(concat(RANGE, "--transport", "infill", "-n", "8", "--warmup", "2"));
        assertEquals("infill", r.get("transport").asText());
        assertOneCompletedRequestPerKeyWithReuse(r);
    }

    @Test
    void webSocketReplaySendsOneRequestPerKeystrokeAndTheServerReusesTheSharedPrefix() throws Exception {
        JsonNode r = replay(concat(RANGE, "--transport", "ws", "-n", "8", "--warmup", "2"));
        assertEquals("ws", r.get("transport").asText());
        assertOneCompletedRequestPerKeyWithReuse(r);
    }

    @Test
    void typingFasterThanCompletionsCancelsRequestsInFlightOverWebSocket() throws Exception {
        double before = cancellations();
        JsonNode r = replay(concat(RANGE, "--transport", "ws", "-n", "64", "--warmup", "0", "--interval-ms", "1",
                "--temperature", "0"));
        assertCancelledWhileTyping(r, 13);
        assertTrue(cancellations() > before, "the server saw the cancel messages");
    }

    @Test
    void typingFasterThanCompletionsClosesInfillConnectionsAndTheServerStopsThoseRequests() throws Exception {
        double before = cancellations();
        double requestsBefore = metric("flint_requests_total\\{api=\"llamacpp.infill\"}");
        // 100 ms apart, so each request reaches the server before the next key closes its connection (a 1 ms
        // interval closes them before Jetty hands them over); no time budget, so 64 tokens outlast the interval.
        JsonNode r = replay(concat(RANGE, "--transport", "infill", "-n", "64", "--warmup", "0", "--interval-ms", "100",
                "--max-keys", "4", "--t-max-predict-ms", "0", "--temperature", "0"));
        assertCancelledWhileTyping(r, 4);
        assertEquals(requestsBefore + 4, metric("flint_requests_total\\{api=\"llamacpp.infill\"}"));
        // The server notices a closed /infill connection when it next writes to it, which may be after the run.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (cancellations() <= before && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(cancellations() > before, "the server stopped work for closed connections");
    }

    private static void assertCancelledWhileTyping(JsonNode r, int keys) {
        assertEquals(keys, r.get("requests").asInt());
        assertEquals(0, r.get("failed").asInt(), r.toString());
        assertTrue(r.get("cancelled").asInt() > 0, r.toString());
        assertEquals(keys, r.get("cancelled").asInt() + r.get("completed").asInt());
        JsonNode last = r.get("per_key").get(keys - 1);
        assertEquals("completed", last.get("status").asText(), "nothing cancels the last key's request");
    }

    @Test
    void printsATableAndTakesLlamaVimsEndpointForm() {
        CliRunner r = CliRunner.run("bench", "replay", "--file", source.toString(), "--url",
                "http://127.0.0.1:" + server.port() + "/infill", "--max-keys", "4", "--warmup", "1", "-n", "4");
        assertEquals(0, r.exitCode(), r.err());
        assertTrue(r.out().contains("requests 3: 3 completed, 0 cancelled, 0 failed"), r.out());
        assertTrue(r.out().contains("| time to first token (ms) | 3 |"), r.out());
        assertTrue(r.out().contains("| prompt tokens reused | 3 |"), r.out());
    }

    @Test
    void sendsTheApiKeyOnBothTransports() throws Exception {
        try (FlintServer keyed = new FlintServer(service, new ServerConfig("127.0.0.1", 0, "sesame", false,
                ServerConfig.DEFAULT_MAX_BODY)).start()) {
            String url = "http://127.0.0.1:" + keyed.port();
            for (String transport : new String[] {"infill", "ws"}) {
                String[] common = {"bench", "replay", "--file", source.toString(), "--url", url, "--transport",
                        transport, "--max-keys", "2", "--warmup", "1", "-n", "2", "--timeout-s", "20"};
                CliRunner ok = CliRunner.run(concat(common, "--api-key", "sesame"));
                assertEquals(0, ok.exitCode(), transport + ": " + ok.err());
                CliRunner refused = CliRunner.run(common);
                assertEquals(1, refused.exitCode(), transport);
                assertTrue(refused.err().contains("401"), transport + ": " + refused.err());
            }
        }
    }

    @Test
    void aRangeOutsideTheFileIsAClearError() {
        CliRunner r = CliRunner.run("bench", "replay", "--file", source.toString(), "--from", "9:5", "--to", "99:1");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--to 99:1: the file has"), r.err());
    }

    @Test
    void anUnreachableServerFailsWithTheReason() throws Exception {
        int port;
        try (var s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        CliRunner r = CliRunner.run("bench", "replay", "--file", source.toString(), "--url",
                "http://127.0.0.1:" + port, "--max-keys", "4", "--warmup", "1", "--timeout-s", "5");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("3 of 3 requests failed"), r.err());
    }

    @Test
    void benchWithoutReplayStillNeedsAModel() {
        CliRunner r = CliRunner.run("bench");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--model"), r.err());
        assertTrue(CliRunner.run("bench", "--help").out().contains("replay"));
    }

    private static double cancellations() {
        return metric("flint_cancellations_total");
    }

    /** A Prometheus sample's value (0 when absent); {@code name} is a regex for the name and labels. */
    private static double metric(String name) {
        Matcher m = Pattern.compile("(?m)^" + name + " ([0-9.eE+-]+)$").matcher(service.metrics().scrape());
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = new String[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
