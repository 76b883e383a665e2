#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The demo: kuifd under systemd, a subscriber printing live kernel events,
# and a few ways of making the kernel speak. Runs in the VM, then powers off.
set -u
HERE=$(dirname "$0")

say() { printf '\n\033[1m>>> %s\033[0m\n' "$*"; sleep 1; }

say "kernel $(uname -r): systemctl start kuifd (loads kuif.ko first)"
systemctl start kuifd || { journalctl -u kuifd --no-pager; exit 1; }
systemctl --no-pager status kuifd | head -n 12
kuifctl ping

say "kuifctl monitor: every kernel event, as it happens"
kuifctl monitor &
mon=$!
sleep 1

say "echo 'hello from user space' > /dev/kuif"
echo 'hello from user space' > /dev/kuif
sleep 1
say "nl-echo 'hello world!'  (generic netlink request and reply)"
"$HERE/nl-echo" 'hello world!'
sleep 1
say "kuifctl emit demo.greeting 'emitted through kuifd and back'"
kuifctl emit demo.greeting 'emitted through kuifd and back'
sleep 1
say "a burst: 10 writes to /dev/kuif"
for i in $(seq 10); do printf "burst $i" > /dev/kuif; done
sleep 2
say "echo 42 > /sys/kernel/kuif/value; sysctl -w kuif.value1=12"
echo 42 > /sys/kernel/kuif/value
sysctl -q -w kuif.value1=12
sleep 1
say "a network device comes and goes: ip link add/set up/del demo0"
modprobe dummy
ip link add demo0 type dummy && ip link set demo0 up && ip link del demo0
sleep 1
say "a configfs generator: mkdir, 5 ticks every 200 ms, rmdir"
g=/sys/kernel/config/kuif/generators/demo
mkdir $g && echo 200 > $g/interval_ms && echo 'tick tock' > $g/payload && echo 1 > $g/enable
sleep 1.1
rmdir $g
sleep 1
say "udp-echo: a datagram to the kernel's socket on 127.0.0.1:5555"
"$HERE/udp-echo"
sleep 2

say "the same events, as JSON (kuifctl monitor --json --count 3)"
kuifctl monitor --json --count 3 --timeout 10 2>/dev/null &
json=$!
sleep 1
for i in 1 2 3; do printf "json $i" > /dev/kuif; done
wait $json

kill $mon 2>/dev/null
say "journalctl -u kuifd"
journalctl --sync; journalctl -u kuifd --no-pager -o short-monotonic | tail -n 15
say "kuifctl stats"
kuifctl stats
systemctl stop kuifd
say "demo finished; powering off"
