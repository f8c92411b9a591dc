package dev.flint.lsp;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flint.server.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real editor as the client: headless Neovim's built-in LSP client runs {@code flint lsp --server URL} (this
 * test's classpath, in a JVM of its own), opens a file, edits it, puts the cursor after the edit and asks for
 * {@code textDocument/completion}. Skipped only where {@code nvim} is not on the PATH (CI installs it).
 */
class NeovimTest {
    private static final String TEXT = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    \n";
    private static final String EDITED = "def plus(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    result = a\n";
    private static final LspOptions OPTIONS = LspOptions.defaults().withMaxTokens(24).withTMaxPredictMs(0);

    private static TestServer ts;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(onPath("nvim"), "nvim is not on the PATH");
        ts = new TestServer(TestServer.model("tiny-qwen2-F16.gguf"), 2, 1024, 16, null);
    }

    @AfterAll
    static void stop() {
        if (ts != null) {
            ts.close();
        }
    }

    @Test
    void neovimCompletionComesFromTheModelAfterItsEditsReachedTheServerAsDeltas(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("calc.py");
        Files.writeString(file, TEXT);
        Path result = dir.resolve("result.json");
        Path stderr = dir.resolve("lsp.stderr");
        Path init = dir.resolve("init.lua");
        Files.writeString(init, initLua(file, result, stderr, dir));

        Path nvimOut = dir.resolve("nvim.out");
        ProcessBuilder pb = new ProcessBuilder("nvim", "--headless", "--clean", "-u", init.toString())
                .directory(dir.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(nvimOut.toFile());
        for (String xdg : List.of("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")) {
            pb.environment().put(xdg, dir.resolve("xdg").toString()); // Neovim's log and state stay in the temp dir
        }
        Process nvim = pb.start();
        if (!nvim.waitFor(180, TimeUnit.SECONDS)) {
            nvim.destroyForcibly();
            throw new AssertionError("nvim did not quit; its output: " + read(nvimOut) + "\nlsp: " + read(stderr));
        }
        String log = read(stderr);
        assertTrue(Files.exists(result), "nvim wrote no result; nvim: " + read(nvimOut) + "\nlsp: " + log);
        JsonNode r = FlintSocket.JSON.readTree(result.toFile());
        assertFalse(r.has("error"), r.toString() + "\nlsp: " + log);

        assertEquals(EDITED, r.get("text").asText(), "the buffer after Neovim's edits");
        String[] parts = DirectFim.split(EDITED, 5, 14);
        String expected = DirectFim.complete(ts.base(), parts[0], parts[1], OPTIONS, 4);
        assertFalse(expected.isEmpty(), "the fixture model should complete something here");
        String[] before = DirectFim.split(TEXT, 5, 4);
        assertNotEquals(DirectFim.complete(ts.base(), before[0], before[1], OPTIONS, 4), expected,
                "the completion must depend on the edits for this test to show they arrived");
        JsonNode item = r.path("result").path("items").path(0);
        assertEquals(expected, item.path("insertText").asText(), r.toString());
        assertEquals(expected, item.path("textEdit").path("newText").asText());

        // what the bridge sent for the edits: deltas at UTF-16 offsets, never the whole file
        String uri = "file://" + file.toAbsolutePath(); // Neovim's vim.uri_from_fname (no characters to escape here)
        List<String> changes = log.lines().filter(l -> l.contains("-> {\"type\":\"change\""))
                .map(l -> l.substring(l.indexOf("-> ") + 3)).toList();
        assertFalse(changes.isEmpty(), log);
        for (String c : changes) {
            assertTrue(c.contains("\"changes\":[") && !c.contains("\"text\":\"def"), c);
        }
        String all = String.join("\n", changes);
        assertTrue(all.contains("{\"start\":53,\"end\":53,\"text\":\"result = a\"}"), all);
        assertTrue(all.contains("{\"start\":4,\"end\":7,\"text\":\"plus\"}"), all);
        assertTrue(all.contains("\"doc\":\"" + uri + "\""), uri + " in " + all);
    }

    private static String initLua(Path file, Path result, Path stderr, Path dir) {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c", "exec \"$@\" 2>>\"$0\"", stderr.toString(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), LspCommand.class.getName(),
                "--server", ts.base(), "--debounce-ms", "0", "--max-tokens", "24", "--t-max-predict-ms", "0",
                "--trace"));
        String cmdLua = cmd.stream().map(NeovimTest::lua).collect(Collectors.joining(", ", "{", "}"));
        return """
                local out = %s
                local function finish(t)
                  vim.fn.writefile({vim.fn.json_encode(t)}, out)
                  vim.cmd('qall!')
                end
                local ok, err = pcall(function()
                  local id = vim.lsp.start_client({name = 'flint', cmd = %s, root_dir = %s})
                  assert(id, 'start_client failed')
                  assert(vim.wait(60000, function()
                    local c = vim.lsp.get_client_by_id(id)
                    return c ~= nil and c.initialized
                  end, 20), 'the language server did not initialize')
                  vim.cmd('edit ' .. vim.fn.fnameescape(%s))
                  local buf = vim.api.nvim_get_current_buf()
                  vim.lsp.buf_attach_client(buf, id)
                  -- edits after didOpen: they must reach the server as didChange deltas
                  vim.api.nvim_buf_set_text(buf, 5, 4, 5, 4, {'result = a'})
                  vim.api.nvim_buf_set_text(buf, 0, 4, 0, 7, {'plus'})
                  vim.o.virtualedit = 'onemore' -- the cursor after the line's last character, as in insert mode
                  vim.api.nvim_win_set_cursor(0, {6, 14})
                  local params = vim.lsp.util.make_position_params()
                  local res = vim.lsp.buf_request_sync(buf, 'textDocument/completion', params, 60000)
                  local r = res and res[id] or {}
                  local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, true), '\\n') .. '\\n'
                  if r.err then error(vim.inspect(r.err)) end
                  finish({result = r.result, text = text})
                end)
                if not ok then finish({error = tostring(err)}) end
                """.formatted(lua(result.toString()), cmdLua, lua(dir.toString()), lua(file.toString()));
    }

    /** A Lua long-bracket string literal: no escaping needed for paths and shell code. */
    private static String lua(String s) {
        return "[==[" + s + "]==]";
    }

    private static String read(Path p) throws Exception {
        return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "(none)";
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String d : path.split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }
}
