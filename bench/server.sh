# server.sh - sourced by compare.sh and scaling.sh: one benchmark server at
# a time, in the background, on a port of its own, and its CPU time.
#
# The caller sets WORK (a scratch folder: the server's output goes to
# $WORK/server.log) and NEXT_PORT (the first port to try); these set
# SERVER_PID and PORT. CPU time is the server process's user+sys (all its
# threads) from /proc/PID/stat, in clock ticks (CLK_TCK per second).

SERVER_PID=
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# port_open PORT : something accepts connections on 127.0.0.1:PORT
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# pick_port : set PORT to a port nobody listens on, from NEXT_PORT up (a
# fresh one for each server: no leftover connection can reach the next)
pick_port() {
    while port_open "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
    PORT=$NEXT_PORT
    NEXT_PORT=$((NEXT_PORT + 1))
}

# start_server PORT CMD... : start it in the background (SERVER_PID), wait
# up to 10 s for PORT to accept; false if it died or never listened
start_server() {
    local port=$1
    shift
    echo "+ $* &"
    "$@" > "$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        port_open "$port" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "  -> the server did not start listening on port $port"
    sed 's/^/     /' "$WORK/server.log" | tail -n 5
    stop_server
    return 1
}

stop_server() {
    [ -n "$SERVER_PID" ] || return 0
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=
}

# cpu_ticks PID : utime + stime (fields 14 and 15; the name in field 2 may
# hold spaces, so count from the ")" that ends it)
cpu_ticks() {
    sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
