package dev.flint.cli.hub;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/** The real download code against a fake hub on loopback: HEAD, redirect to a CDN, ranged GETs. */
@Timeout(60)
class DownloaderTest {
    private static final String REPO = "ggml-org/Tiny-GGUF";
    private static final HubFile FILE = HubFile.parse("hf://ggml-org/Tiny-GGUF/tiny-q8_0.gguf");

    @TempDir
    Path cache;

    private final FakeHub hub = new FakeHub();
    private final byte[] content = random(700_000);

    DownloaderTest() throws IOException {}

    @AfterEach
    void stop() {
        hub.close();
    }

    private Path target() {
        return cache.resolve("models/ggml-org/Tiny-GGUF/tiny-q8_0.gguf");
    }

    private Downloader downloader(HubConfig config, int attempts) {
        return new Downloader(new HubClient(config), dir -> Long.MAX_VALUE, attempts, Duration.ofSeconds(5));
    }

    @Test
    void downloadsVerifiesAndRenamesIntoTheCache() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content);
        Downloader.Result r = downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE);
        assertTrue(r.downloaded());
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertFalse(Files.exists(Downloader.partFile(target())), "no .part left");
        assertEquals(1, hub.cdnGets.get());
        assertTrue(hub.rangesSeen.isEmpty(), "a fresh download sends no Range");
    }

    @Test
    void followsTheHubsRelativeRedirectForARenamedRepository() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content);
        hub.rename("someone/Old-Name", REPO);
        HubFile old = HubFile.parse("hf://someone/Old-Name/tiny-q8_0.gguf");
        downloader(hub.config(), 1).download(old, target(), DownloadListener.NONE);
        assertArrayEquals(content, Files.readAllBytes(target()));
    }

    @Test
    void sendsTheTokenToTheHubButNotToTheCdn() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content).gated("hf_secret");
        downloader(hub.config().withToken("hf_secret"), 1).download(FILE, target(), DownloadListener.NONE);
        assertEquals(List.of("Bearer hf_secret"), hub.hubAuthorizations);
        assertTrue(hub.cdnAuthorizations.isEmpty(), "the signed CDN URL must not get the token");
        assertArrayEquals(content, Files.readAllBytes(target()));
    }

    @Test
    void resumesWithARangeAfterTheConnectionWasCut() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content).cutOnceAfter(300_000);
        HubException e = assertThrows(HubException.class,
                () -> downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("interrupted") && e.getMessage().contains("again to resume"),
                e.getMessage());
        assertFalse(Files.exists(target()), "an incomplete download is never the model file");
        long kept = Files.size(Downloader.partFile(target()));
        assertTrue(kept > 0 && kept < content.length, "kept " + kept);

        Downloader.Result r = downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE);
        assertTrue(r.downloaded());
        assertEquals(List.of("bytes=" + kept + "-"), hub.rangesSeen);
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertFalse(Files.exists(Downloader.partFile(target())));
    }

    @Test
    void resumesWithinOneCallWhenAttemptsAreLeft() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content).cutOnceAfter(200_000);
        downloader(hub.config(), 2).download(FILE, target(), DownloadListener.NONE);
        assertEquals(2, hub.cdnGets.get());
        assertEquals(1, hub.rangesSeen.size());
        assertArrayEquals(content, Files.readAllBytes(target()));
    }

    @Test
    void aConnectionThatGoesQuietIsResumed() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content).stallOnceAfter(100_000, 20_000);
        Downloader d = new Downloader(new HubClient(hub.config()), dir -> Long.MAX_VALUE, 2, Duration.ofMillis(300));
        long t0 = System.nanoTime();
        d.download(FILE, target(), DownloadListener.NONE);
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "the stall was cut short, not waited out");
        assertEquals(1, hub.rangesSeen.size());
        assertArrayEquals(content, Files.readAllBytes(target()));
    }

    @Test
    void rejectsAFileWhoseSha256DiffersAndLeavesNothingBehind() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content).publishSha("ab".repeat(32));
        HubException e = assertThrows(HubException.class,
                () -> downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("checksum mismatch"), e.getMessage());
        assertTrue(e.getMessage().contains("ab".repeat(32)), e.getMessage());
        assertFalse(Files.exists(target()));
        assertFalse(Files.exists(Downloader.partFile(target())));
    }

    @Test
    void namesAMissingFile() {
        HubException e = assertThrows(HubException.class,
                () -> downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("'tiny-q8_0.gguf' not found in ggml-org/Tiny-GGUF"), e.getMessage());
        assertFalse(Files.exists(target()));
    }

    @Test
    void explainsAGatedRepositoryAndHfToken() {
        hub.host(REPO, "tiny-q8_0.gguf", content).gated("hf_secret");
        HubException e = assertThrows(HubException.class,
                () -> downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("gated"), e.getMessage());
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
        assertEquals(0, hub.cdnGets.get());
    }

    @Test
    void saysWhichHostCannotBeReached() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort(); // closed again below: nothing listens there
        }
        HubException e = assertThrows(HubException.class, () -> downloader(HubConfig.of("http://127.0.0.1:" + port), 1)
                .download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("cannot reach 127.0.0.1:" + port), e.getMessage());
    }

    @Test
    void refusesAServerThatIsNotAHub() {
        hub.host(REPO, "tiny-q8_0.gguf", content);
        hub.sendRepoCommit = false;
        HubException e = assertThrows(HubException.class,
                () -> downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("X-Repo-Commit"), e.getMessage());
    }

    @Test
    void refusesToStartWithoutTheDiskSpace() {
        hub.host(REPO, "tiny-q8_0.gguf", content);
        Downloader d = new Downloader(new HubClient(hub.config()), dir -> 1000, 1, Duration.ofSeconds(5));
        HubException e = assertThrows(HubException.class, () -> d.download(FILE, target(), DownloadListener.NONE));
        assertTrue(e.getMessage().contains("not enough disk space"), e.getMessage());
        assertTrue(e.getMessage().contains("FLINT_HOME"), e.getMessage());
        assertEquals(0, hub.cdnGets.get());
        assertFalse(Files.exists(target()));
    }

    @Test
    void concurrentPullsOfOneFileDownloadItOnce() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content).throttle(20_000_000); // ~11 chunks: ~0.2 s of transfer
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            List<Future<Downloader.Result>> pulls = List.of(0, 1).stream().map(i -> pool.submit(() -> {
                go.await();
                // separate clients and downloaders, as two commands would have
                return downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE);
            })).toList();
            go.countDown();
            long downloaded = 0;
            for (Future<Downloader.Result> f : pulls) {
                Downloader.Result r = f.get();
                assertEquals(target(), r.path());
                downloaded += r.downloaded() ? 1 : 0;
            }
            assertEquals(1, downloaded);
        }
        assertEquals(1, hub.cdnGets.get());
        assertArrayEquals(content, Files.readAllBytes(target()));
        assertFalse(Files.exists(Downloader.partFile(target())));
    }

    @Test
    void aCachedFileIsNotFetchedAgain() throws Exception {
        hub.host(REPO, "tiny-q8_0.gguf", content);
        downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE);
        Downloader.Result again = downloader(hub.config(), 1).download(FILE, target(), DownloadListener.NONE);
        assertFalse(again.downloaded());
        assertEquals(1, hub.cdnGets.get());
    }

    private static byte[] random(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }
}
