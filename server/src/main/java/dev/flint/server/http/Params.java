package dev.flint.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Typed, validated access to a request's JSON fields, with messages that name the field and what was expected.
 * Fields are strict about types (no "5" for 5). Records which fields were read so a caller can refuse unknown ones.
 */
public final class Params {
    private final ObjectNode node;
    private final Set<String> read = new HashSet<>();

    public Params(ObjectNode node) {
        this.node = node;
    }

    public ObjectNode node() {
        return node;
    }

    public boolean has(String name) {
        read.add(name);
        JsonNode v = node.get(name);
        return v != null && !v.isNull();
    }

    public JsonNode raw(String name) {
        read.add(name);
        JsonNode v = node.get(name);
        return v == null || v.isNull() ? null : v;
    }

    public int integer(String name, int fallback, int min, int max) {
        JsonNode v = raw(name);
        if (v == null) {
            return fallback;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badParam(name, "'" + name + "' must be an integer, got " + describe(v));
        }
        long x = v.longValue();
        if (x < min || x > max) {
            throw ApiException.badParam(name, "'" + name + "' must be between " + min + " and " + max + ", got " + x);
        }
        return (int) x;
    }

    public double number(String name, double fallback, double min, double max) {
        JsonNode v = raw(name);
        if (v == null) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw ApiException.badParam(name, "'" + name + "' must be a number, got " + describe(v));
        }
        double x = v.doubleValue();
        if (!(x >= min && x <= max)) {
            throw ApiException.badParam(name, "'" + name + "' must be between " + min + " and " + max + ", got " + x);
        }
        return x;
    }

    public Long optionalLong(String name) {
        JsonNode v = raw(name);
        if (v == null) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badParam(name, "'" + name + "' must be an integer, got " + describe(v));
        }
        return v.longValue();
    }

    public boolean bool(String name, boolean fallback) {
        JsonNode v = raw(name);
        if (v == null) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw ApiException.badParam(name, "'" + name + "' must be true or false, got " + describe(v));
        }
        return v.booleanValue();
    }

    public String string(String name, String fallback) {
        JsonNode v = raw(name);
        if (v == null) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw ApiException.badParam(name, "'" + name + "' must be a string, got " + describe(v));
        }
        return v.textValue();
    }

    public String requireString(String name) {
        String s = string(name, null);
        if (s == null) {
            throw ApiException.badParam(name, "'" + name + "' is required");
        }
        return s;
    }

    /** A string or an array of strings (OpenAI's {@code stop}). */
    public List<String> strings(String name, int maxCount) {
        JsonNode v = raw(name);
        List<String> out = new ArrayList<>();
        if (v == null) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.textValue());
        } else if (v.isArray()) {
            for (JsonNode e : v) {
                if (!e.isTextual()) {
                    throw ApiException.badParam(name, "'" + name + "' must hold strings, got " + describe(e));
                }
                out.add(e.textValue());
            }
        } else {
            throw ApiException.badParam(name, "'" + name + "' must be a string or an array of strings, got "
                    + describe(v));
        }
        if (out.size() > maxCount) {
            throw ApiException.badParam(name, "'" + name + "' holds at most " + maxCount + " entries");
        }
        return out;
    }

    /** Refuses fields this request type does not define (used by the native WebSocket protocol). */
    public void rejectUnknown(Set<String> allowed) {
        for (var it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f)) {
                throw ApiException.badParam(f, "unknown field '" + f + "'");
            }
        }
    }

    static String describe(JsonNode v) {
        String s = v.toString();
        return v.getNodeType().name().toLowerCase() + " " + (s.length() > 40 ? s.substring(0, 40) + "…" : s);
    }
}
