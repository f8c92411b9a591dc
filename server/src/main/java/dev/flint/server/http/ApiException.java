package dev.flint.server.http;

/**
 * A failure a client can act on, with the HTTP status it maps to. Thrown anywhere in request handling and turned
 * into one JSON error body at the edge ({@link ErrorBodies}); over the WebSocket it becomes an {@code error} message.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;

    public ApiException(int status, String type, String message, String param) {
        super(message, null, false, false);
        this.status = status;
        this.type = type;
        this.param = param;
    }

    public static ApiException badRequest(String message) {
        return new ApiException(400, "invalid_request_error", message, null);
    }

    public static ApiException badParam(String param, String message) {
        return new ApiException(400, "invalid_request_error", message, param);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String param() {
        return param;
    }
}
