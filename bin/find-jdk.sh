# Sourced by the scripts in bin/: sets JAVA_HOME to a JDK 25 or newer, or exits with a clear message.
flint_java_major() {
    "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1
}
flint_find_jdk() {
    local candidates=()
    [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
    for d in /usr/lib/jvm/temurin-2[5-9]* /usr/lib/jvm/*-2[5-9]* /usr/lib/jvm/jdk-2[5-9]* /opt/java/openjdk; do
        [ -d "$d" ] && candidates+=("$d")
    done
    if command -v java >/dev/null 2>&1; then
        candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
    fi
    for c in "${candidates[@]}"; do
        if [ -x "$c/bin/java" ] && [ -x "$c/bin/javac" ]; then
            local major
            major=$(flint_java_major "$c")
            if [ -n "$major" ] && [ "$major" -ge 25 ]; then
                export JAVA_HOME="$c"
                return 0
            fi
        fi
    done
    echo "flint: needs a JDK 25 or newer (Temurin 25 recommended); set JAVA_HOME to it" >&2
    exit 1
}
flint_find_jdk
