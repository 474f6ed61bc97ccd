#!/usr/bin/env bash
# Class mode under tmux: `socklab run --step` stops before each step with the lab sheet's question
# and goes on when Enter is pressed; the run ends with its verdicts.
#   step-check.sh <socklab> <scenario> <variant>
set -euo pipefail
socklab=$1 scenario=$2 variant=$3
session=socklab-step-$$
tmp=$(mktemp -d)
trap 'tmux kill-session -t "$session" 2>/dev/null; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; tmux capture-pane -p -t "$session" -S - 2>/dev/null | tail -30 >&2; exit 1; }

tmux new-session -d -s "$session" -x 120 -y 50 \
  "$socklab run $scenario --variant $variant --step --captures $tmp --color never; echo EXIT=\$?; sleep 60"
pane() { tmux capture-pane -p -t "$session" -S -; }
# The first pause must come before anything runs: no program has started.
for _ in $(seq 1 200); do pane | grep -q "\[Enter\] to run it" && break; sleep 0.05; done
pane | grep -q "step 1/" || fail "no first step shown"
pane | grep -q "socket() =" && fail "a program ran before Enter was pressed"
# Enter until the run ends, each time waiting for the next prompt or the end.
for _ in $(seq 1 60); do
  pane | grep -q "^EXIT=" && break
  prompts=$(pane | grep -c "\[Enter\] to run it")
  tmux send-keys -t "$session" Enter
  for _ in $(seq 1 600); do
    [ "$(pane | grep -c "\[Enter\] to run it")" -gt "$prompts" ] && break
    pane | grep -q "^EXIT=" && break
    sleep 0.05
  done
done
pane | grep -q "^EXIT=0" || fail "the run under tmux did not end with exit 0"
pane | grep -q "Predict:" || fail "no question to predict was shown"
echo "class mode under tmux: $(pane | grep -c "\[Enter\] to run it") pauses, then the verdicts"
