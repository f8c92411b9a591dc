package dev.flint.server.ws;

import dev.flint.server.ModelService;
import io.javalin.websocket.WsConfig;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Mounts the native protocol on a Javalin WebSocket route: one {@link WsConnection} per socket. */
public final class WsEndpoint {
    private final ModelService service;
    private final Map<String, WsConnection> connections = new ConcurrentHashMap<>();

    public WsEndpoint(ModelService service) {
        this.service = service;
    }

    public void configure(WsConfig ws) {
        ws.onConnect(ctx -> {
            connections.put(ctx.sessionId(), new WsConnection(service, ctx));
        });
        ws.onMessage(ctx -> {
            WsConnection c = connections.get(ctx.sessionId());
            if (c != null) {
                c.onMessage(ctx.message());
            }
        });
        ws.onBinaryMessage(ctx -> {
            WsConnection c = connections.get(ctx.sessionId());
            if (c != null) {
                c.onBinary();
            }
        });
        ws.onClose(ctx -> {
            WsConnection c = connections.remove(ctx.sessionId());
            if (c != null) {
                c.onClose();
            }
        });
        ws.onError(ctx -> {
            WsConnection c = connections.remove(ctx.sessionId());
            if (c != null) {
                c.onClose();
            }
        });
    }

    public int connectionCount() {
        return connections.size();
    }
}
