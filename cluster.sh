#!/usr/bin/env bash
# A local Bitácora cluster: N nodes on this machine, in the background, on loopback ports.
# Nodes 1..min(N,3) are controller voters and brokers (combined mode); the rest are brokers that
# follow the metadata log as observers. State lives in .cluster/ (or $BITACORA_CLUSTER_DIR): the
# cluster id (made once), the cluster's size and ports, and per node its data, log and pid file.
# Run ./cluster.sh help for the commands. Exit codes: 0 done, 1 failed (says why), 2 usage.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER_DIR=${BITACORA_CLUSTER_DIR:-$ROOT/.cluster}
BIN=$ROOT/dist/cli/main.js
NODE_FLAGS=--initial-heap-size=64   # V8 flags for a broker: why in src/cli/node-flags.ts
HOST=127.0.0.1

# Limits, each with its reason.
NODES_DEFAULT=3
VOTERS_MAX=3           # a quorum of 3 survives one failure; more voters only slow commits here
NODES_MAX=16           # one port each from the base; a 2-core machine holds no more
START_TIMEOUT_S=30     # a node must listen this soon after its process starts
UP_TIMEOUT_S=${BITACORA_UP_TIMEOUT_S:-90}  # election and catch-up, on a busy machine
STOP_TIMEOUT_S=30      # a node stopping cleanly flushes and closes its logs
KILL_TIMEOUT_S=5       # SIGKILL is immediate; this only bounds the wait for the kernel
POLL_S=1               # between readiness checks (each runs the CLI once)
LOG_LINES=100          # what `logs ID` shows

usage() {
  cat <<EOF
usage: ./cluster.sh <command> [args]

  up [N]         start a cluster of N nodes (default $NODES_DEFAULT, at most $NODES_MAX): nodes 1..min(N,$VOTERS_MAX) are
                 controller voters and brokers, the rest brokers only; builds first if dist/ is
                 missing or older than the sources; waits until a controller is elected, every
                 node has caught up with the metadata log, and every broker is registered and
                 unfenced (at most ${UP_TIMEOUT_S} s)
  status         each node's state, pid and URL, then the quorum (bitacora cluster describe);
                 exit 0 only if every node runs
  down           stop every node (SIGTERM), waiting up to ${STOP_TIMEOUT_S} s; names any that did not stop
  kill ID        SIGKILL node ID (a crash)
  stop ID        SIGSTOP node ID (it holds its port and answers nothing: a stall)
  cont ID        SIGCONT node ID (resume a stopped node)
  restart ID     stop node ID cleanly if it runs, then start it again with the same flags
  logs ID [-f]   the last $LOG_LINES lines of node ID's log (-f: follow it)
  clean          delete the cluster's data and logs (refused while a node runs)
  help           this help

environment:
  BITACORA_BASE_PORT    node ID listens on base + ID - 1 (default 9092); fixed by the first up
  BITACORA_CLUSTER_DIR  where the cluster's state lives (default: .cluster next to this script)
  BITACORA_UP_TIMEOUT_S how long up waits for the cluster to be ready (default 90)
EOF
}

say() { printf '%s\n' "$*"; }
die() { printf 'cluster.sh: %s\n' "$*" >&2; exit 1; }
usage_error() {
  printf 'cluster.sh: %s\n\n' "$*" >&2
  usage >&2
  exit 2
}

# ---- The cluster's state: cluster-id, nodes, voters, base-port in $CLUSTER_DIR.

state() { cat "$CLUSTER_DIR/$1"; }
has_cluster() { [ -f "$CLUSTER_DIR/cluster-id" ] && [ -f "$CLUSTER_DIR/nodes" ]; }
need_cluster() { has_cluster || die "no cluster in $CLUSTER_DIR (start one: ./cluster.sh up)"; }
node_dir() { printf '%s/node-%s' "$CLUSTER_DIR" "$1"; }
port_of() { echo $(( $(state base-port) + $1 - 1 )); }
url_of() { printf 'ws://%s:%s/' "$HOST" "$(port_of "$1")"; }

all_urls() {
  local id urls=''
  for (( id = 1; id <= $(state nodes); id++ )); do urls="${urls:+$urls,}$(url_of "$id")"; done
  printf '%s' "$urls"
}

# The URLs of the nodes that answer (a stopped node would hold a client for its connect timeout).
running_urls() {
  local id urls=''
  for (( id = 1; id <= $(state nodes); id++ )); do
    [ "$(node_state "$id")" != running ] || urls="${urls:+$urls,}$(url_of "$id")"
  done
  printf '%s' "$urls"
}

voter_list() {
  local id list=''
  for (( id = 1; id <= $(state voters); id++ )); do list="${list:+$list,}$id@ws://$HOST:$(port_of "$id")"; done
  printf '%s' "$list"
}

# A node id argument: 1..nodes, else usage (exit 2).
node_arg() {
  local command=$1 id=${2:-}
  [ -n "$id" ] || usage_error "$command needs a node ID"
  need_cluster
  if ! [[ $id =~ ^[1-9][0-9]{0,3}$ ]] || (( id > $(state nodes) )); then
    usage_error "$command: no node '$id' in this cluster (nodes 1..$(state nodes))"
  fi
}

# ---- Processes. A pid file counts only while its process is this node's broker (pids are reused).

node_pid() {
  local file pid
  file="$(node_dir "$1")/pid"
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  if [[ $(ps -ww -o args= -p "$pid" 2>/dev/null) == *"$BIN broker --id $1 "* ]]; then printf '%s' "$pid"; fi
}

# running | stopped (SIGSTOP) | down
node_state() {
  local pid
  pid=$(node_pid "$1")
  if [ -z "$pid" ]; then echo down
  elif [[ $(ps -o stat= -p "$pid" 2>/dev/null) == T* ]]; then echo stopped
  else echo running
  fi
}

running_nodes() {
  local id
  for (( id = 1; id <= $(state nodes); id++ )); do [ -z "$(node_pid "$id")" ] || printf '%s ' "$id"; done
}

# Whether something accepts connections on the port (bash's /dev/tcp: no extra tool needed).
port_taken() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Whether process $1 still runs: an exited one may linger as a zombie until whoever inherited
# it reaps it, and kill -0 still finds that.
is_alive() { [[ $(ps -o stat= -p "$1" 2>/dev/null) == [!Z]* ]]; }

# Waits up to $2 seconds for process $1 to be gone; false if it is still there.
wait_gone() {
  local pid=$1 deadline=$(( SECONDS + $2 ))
  while is_alive "$pid"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.1
  done
}

# Starts node $1 and waits until it listens; on failure says why on stderr and returns 1.
start_node() {
  local id=$1 dir log from pid deadline
  dir=$(node_dir "$id")
  log=$dir/broker.log
  mkdir -p "$dir"
  touch "$log"
  from=$(( $(wc -c <"$log") + 1 ))
  nohup node $NODE_FLAGS "$BIN" broker --id "$id" --host "$HOST" --port "$(port_of "$id")" --data-dir "$dir/data" \
    --cluster-id "$(state cluster-id)" --controller-voters "$(voter_list)" >>"$log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$dir/pid"
  deadline=$(( SECONDS + START_TIMEOUT_S ))
  until grep -q 'listening on' < <(tail -c "+$from" "$log"); do
    if ! is_alive "$pid"; then
      rm -f "$dir/pid"
      printf 'cluster.sh: node %s did not start: %s\n' "$id" "$(tail -c "+$from" "$log" | tail -n 3)" >&2
      return 1
    fi
    if (( SECONDS >= deadline )); then
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$dir/pid"
      printf 'cluster.sh: node %s did not listen within %s s; see %s\n' "$id" "$START_TIMEOUT_S" "$log" >&2
      return 1
    fi
    sleep 0.1
  done
}

# Stops node $1 with SIGTERM (and SIGCONT, so a stopped node can act on it); false if it is
# still running after $2 seconds.
stop_node() {
  local pid
  pid=$(node_pid "$1")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  kill -CONT "$pid" 2>/dev/null || true
  wait_gone "$pid" "$2" || return 1
  rm -f "$(node_dir "$1")/pid"
}

# ---- Build and readiness.

build_if_needed() {
  if [ -f "$BIN" ] && [ -z "$(find "$ROOT/src" "$ROOT/proto" "$ROOT/assembly" "$ROOT/package.json" -newer "$BIN" -print -quit)" ]; then
    return 0
  fi
  [ -d "$ROOT/node_modules" ] || die "dependencies are not installed: run npm install in $ROOT first"
  mkdir -p "$CLUSTER_DIR"
  say "building (dist/ is missing or older than the sources; log: $CLUSTER_DIR/build.log)..."
  (cd "$ROOT" && npm run build) >"$CLUSTER_DIR/build.log" 2>&1 || die "the build failed; see $CLUSTER_DIR/build.log"
}

# What the cluster is still waiting for (one line), or nothing when it is ready; reads
# `bitacora cluster describe --json` on stdin.
# shellcheck disable=SC2016 # JavaScript: its ${...} are template literals, not shell expansions
WAITING_FOR_JS='
const [nodes] = process.argv.slice(1)
let d
try { d = JSON.parse(require("fs").readFileSync(0, "utf8")) } catch { console.log("an answer from the cluster"); process.exit(0) }
const ids = (what, list) => `${what}${list.length === 1 ? "" : "s"} ${list.join(", ")}`
if (d.leaderId < 0) { console.log("a controller to be elected"); process.exit(0) }
if (d.answeredBy !== d.leaderId) { console.log(`an answer from the controller (node ${d.leaderId})`); process.exit(0) }
const replicas = [...d.voters, ...d.observers]
const absent = []
for (let id = 1; id <= Number(nodes); id++) if (!replicas.some((r) => r.nodeId === id)) absent.push(id)
if (absent.length > 0) { console.log(`${ids("node", absent)} to join the metadata quorum`); process.exit(0) }
const behind = replicas.filter((r) => r.lag !== 0).map((r) => `${r.nodeId} (lag ${r.lag < 0 ? "unknown" : r.lag})`)
if (behind.length > 0) { console.log(`${ids("node", behind)} to catch up with the metadata log`); process.exit(0) }
const unready = []
for (let id = 1; id <= Number(nodes); id++) {
  const b = d.brokers.find((x) => x.id === id)
  if (!b || b.fenced) unready.push(`${id} (${b ? "fenced" : "not registered"})`)
}
if (unready.length > 0) console.log(`${ids("broker", unready)} to register and be unfenced`)
'

# Waits until the cluster is ready, printing what it waits for each time that changes.
wait_ready() {
  local deadline=$(( SECONDS + UP_TIMEOUT_S )) answer waiting='' shown=''
  while :; do
    if answer=$(node "$BIN" cluster describe --json -b "$(running_urls)" 2>&1); then
      waiting=$(printf '%s' "$answer" | node -e "$WAITING_FOR_JS" "$(state nodes)")
    else
      # The reason without the URL of whichever node answered, so it is shown once, not per node.
      waiting="an answer from the cluster ($(printf '%s' "${answer#bitacora: }" | sed -E 's/[A-Za-z]+ request to wss?:[^ ]*: //'))"
    fi
    [ -n "$waiting" ] || return 0
    if [ "$waiting" != "$shown" ]; then
      say "  waiting for $waiting"
      shown=$waiting
    fi
    (( SECONDS < deadline )) || die "the cluster is not ready after ${UP_TIMEOUT_S} s: still waiting for $waiting (./cluster.sh logs ID shows a node's log)"
    sleep "$POLL_S"
  done
}

# ---- Commands.

cmd_up() {
  local n=${1:-} id running taken=() started=$SECONDS role
  if [ -n "$n" ]; then
    if ! [[ $n =~ ^[1-9][0-9]?$ ]] || (( n > NODES_MAX )); then usage_error "up: N must be a node count from 1 to $NODES_MAX, not '$n'"; fi
  fi
  if has_cluster; then
    running=$(running_nodes)
    if [ -n "$running" ]; then
      if [ "${running% }" = "$(seq -s ' ' 1 "$(state nodes)")" ] && { [ -z "$n" ] || (( n == $(state nodes) )); }; then
        say "the cluster in $CLUSTER_DIR is already running (nodes ${running% }); ./cluster.sh status shows it, ./cluster.sh down stops it"
        return 0
      fi
      die "a cluster of $(state nodes) nodes in $CLUSTER_DIR has nodes ${running% } running; ./cluster.sh down first (or restart ID for one node)"
    fi
    n=${n:-$(state nodes)}
    (( n >= $(state voters) )) || die "this cluster has $(state voters) controller voters, so it needs at least $(state voters) nodes (./cluster.sh clean starts over)"
  else
    # A new cluster: its ports and voters are fixed now, by this first up.
    n=${n:-$NODES_DEFAULT}
    local base=${BITACORA_BASE_PORT:-9092}
    if ! [[ $base =~ ^[1-9][0-9]{0,4}$ ]] || (( base + n - 1 > 65535 )); then
      usage_error "BITACORA_BASE_PORT=$base: the $n ports from it must be in 1..65535"
    fi
    mkdir -p "$CLUSTER_DIR"
    echo "$base" >"$CLUSTER_DIR/base-port"
    echo $(( n < VOTERS_MAX ? n : VOTERS_MAX )) >"$CLUSTER_DIR/voters"
  fi
  for (( id = 1; id <= n; id++ )); do
    if port_taken "$(port_of "$id")"; then taken+=("$(port_of "$id") (node $id)"); fi
  done
  (( ${#taken[@]} == 0 )) || die "port ${taken[*]} is taken by another process; stop it, or use other ports: BITACORA_BASE_PORT for a new cluster (./cluster.sh clean first)"
  echo "$n" >"$CLUSTER_DIR/nodes"
  build_if_needed
  if [ ! -f "$CLUSTER_DIR/cluster-id" ]; then
    node "$BIN" format --random-cluster-id >"$CLUSTER_DIR/cluster-id.new" || die "cannot make a cluster id with $BIN (see above)"
    mv "$CLUSTER_DIR/cluster-id.new" "$CLUSTER_DIR/cluster-id"
  fi
  say "starting $n nodes of cluster $(state cluster-id) (controller voters: $(voter_list))"
  for (( id = 1; id <= n; id++ )); do
    node "$BIN" format --data-dir "$(node_dir "$id")/data" --id "$id" --cluster-id "$(state cluster-id)" >/dev/null \
      || die "node $id's data directory cannot be used (see above); ./cluster.sh clean starts over"
  done
  for (( id = 1; id <= n; id++ )); do
    if ! start_node "$id"; then
      # Half a cluster helps no one: stop what this up started.
      local earlier
      for (( earlier = 1; earlier < id; earlier++ )); do stop_node "$earlier" "$STOP_TIMEOUT_S" || true; done
      die "stopped the nodes started; fix the cause above and run ./cluster.sh up again"
    fi
  done
  say "waiting until a controller is elected, every node has caught up and every broker is registered and unfenced (at most ${UP_TIMEOUT_S} s)..."
  wait_ready
  say "ready in $(( SECONDS - started )) s:"
  for (( id = 1; id <= n; id++ )); do
    role=broker
    (( id > $(state voters) )) || role='controller voter + broker'
    say "  node $id  $(url_of "$id")  $role  pid $(node_pid "$id")"
  done
  say ""
  say "next (bitacora: npm link, or node dist/cli/main.js):"
  say "  export BITACORA_BROKERS=$(all_urls)"
  say "  bitacora cluster describe"
  say "  bitacora topics create orders --partitions 3"
  say "  ./cluster.sh kill 1; bitacora cluster describe    # a new controller is elected"
}

cmd_status() {
  local id all_running=true
  need_cluster
  say "cluster $(state cluster-id) in $CLUSTER_DIR: $(state nodes) nodes, $(state voters) controller voters"
  for (( id = 1; id <= $(state nodes); id++ )); do
    local state pid
    state=$(node_state "$id")
    pid=$(node_pid "$id")
    [ "$state" = running ] || all_running=false
    say "  node $id  $(url_of "$id")  $state${pid:+  pid $pid}"
  done
  if [ -n "$(running_urls)" ]; then
    say ""
    node "$BIN" cluster describe -b "$(running_urls)" || true
  fi
  [ "$all_running" = true ]
}

cmd_down() {
  local id pid ids=() pids=() stopped=() stuck=() deadline=$(( SECONDS + STOP_TIMEOUT_S )) i
  need_cluster
  for (( id = 1; id <= $(state nodes); id++ )); do
    pid=$(node_pid "$id")
    [ -n "$pid" ] || continue
    ids+=("$id")
    pids+=("$pid")
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true # a stopped node must run to stop
  done
  for i in "${!ids[@]}"; do
    if wait_gone "${pids[i]}" $(( deadline > SECONDS ? deadline - SECONDS : 0 )); then
      rm -f "$(node_dir "${ids[i]}")/pid"
      stopped+=("${ids[i]}")
    else
      stuck+=("${ids[i]}")
    fi
  done
  (( ${#stuck[@]} == 0 )) || die "nodes ${stuck[*]} did not stop within ${STOP_TIMEOUT_S} s; ./cluster.sh kill ID ends one"
  if (( ${#stopped[@]} == 0 )); then say "no node was running"; else say "stopped nodes ${stopped[*]}"; fi
}

cmd_signal() {
  local command=$1 signal=$2 id=$3 pid
  node_arg "$command" "$id"
  pid=$(node_pid "$id")
  [ -n "$pid" ] || die "node $id is not running"
  kill "-$signal" "$pid"
  case $signal in
    KILL)
      wait_gone "$pid" "$KILL_TIMEOUT_S" || die "node $id (pid $pid) is still there ${KILL_TIMEOUT_S} s after SIGKILL"
      rm -f "$(node_dir "$id")/pid"
      say "killed node $id (pid $pid); ./cluster.sh restart $id starts it again" ;;
    STOP) say "stopped node $id (pid $pid): it holds its port and answers nothing; ./cluster.sh cont $id resumes it" ;;
    CONT) say "resumed node $id (pid $pid)" ;;
  esac
}

cmd_restart() {
  local id=$1
  node_arg restart "$id"
  stop_node "$id" "$STOP_TIMEOUT_S" || die "node $id did not stop within ${STOP_TIMEOUT_S} s; ./cluster.sh kill $id ends it"
  ! port_taken "$(port_of "$id")" || die "port $(port_of "$id") (node $id) is taken by another process"
  start_node "$id"
  say "restarted node $id at $(url_of "$id") (pid $(node_pid "$id")); bitacora cluster describe shows it catch up"
}

cmd_logs() {
  local id=${1:-} follow=${2:-}
  node_arg logs "$id"
  [ -z "$follow" ] || [ "$follow" = -f ] || usage_error "logs: unknown option '$follow' (only -f)"
  [ -f "$(node_dir "$id")/broker.log" ] || die "node $id has no log yet"
  if [ -n "$follow" ]; then exec tail -n "$LOG_LINES" -f "$(node_dir "$id")/broker.log"; fi
  tail -n "$LOG_LINES" "$(node_dir "$id")/broker.log"
}

cmd_clean() {
  local running
  if [ ! -d "$CLUSTER_DIR" ]; then
    say "nothing to clean in $CLUSTER_DIR"
    return 0
  fi
  if has_cluster; then
    running=$(running_nodes)
    [ -z "$running" ] || die "nodes ${running% } are running; ./cluster.sh down first"
  fi
  # Only what this script made: a mistaken BITACORA_CLUSTER_DIR must not lose anything else.
  rm -rf "$CLUSTER_DIR"/node-[0-9]*
  rm -f "$CLUSTER_DIR"/{cluster-id,cluster-id.new,nodes,voters,base-port,build.log}
  rmdir "$CLUSTER_DIR" 2>/dev/null || true
  say "removed the cluster's data and logs from $CLUSTER_DIR"
}

main() {
  local command=${1:-}
  [ $# -eq 0 ] || shift
  case $command in
    up) (( $# <= 1 )) || usage_error "up takes at most one argument (N)"; cmd_up "$@" ;;
    status) (( $# == 0 )) || usage_error "status takes no arguments"; cmd_status ;;
    down) (( $# == 0 )) || usage_error "down takes no arguments"; cmd_down ;;
    kill) (( $# <= 1 )) || usage_error "kill takes one node ID"; cmd_signal kill KILL "${1:-}" ;;
    stop) (( $# <= 1 )) || usage_error "stop takes one node ID"; cmd_signal stop STOP "${1:-}" ;;
    cont) (( $# <= 1 )) || usage_error "cont takes one node ID"; cmd_signal cont CONT "${1:-}" ;;
    restart) (( $# <= 1 )) || usage_error "restart takes one node ID"; cmd_restart "${1:-}" ;;
    logs) (( $# <= 2 )) || usage_error "logs takes a node ID and -f"; cmd_logs "$@" ;;
    clean) (( $# == 0 )) || usage_error "clean takes no arguments"; cmd_clean ;;
    help | -h | --help) usage ;;
    '') usage_error "no command given" ;;
    *) usage_error "unknown command '$command'" ;;
  esac
}

main "$@"
