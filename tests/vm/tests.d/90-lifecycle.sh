# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: stopping kuifd and unloading the module; runs last.

t_kuifd_stops_cleanly() {
	systemctl stop kuifd || return 1
	[ "$(systemctl show -P Result kuifd)" = success ] ||
		{ echo "Result=$(systemctl show -P Result kuifd)"; return 1; }
	[ ! -e /run/kuifd/kuifd.sock ] || { echo "socket left behind"; return 1; }
}

t_rmmod_busy_while_open() {
	local rc
	exec 3</dev/kuif
	rmmod kuif 2>/dev/null
	rc=$?
	exec 3<&-
	[ $rc -ne 0 ] || { echo "rmmod succeeded with /dev/kuif open"; modprobe kuif; return 1; }
	grep -q "^kuif " /proc/modules || { echo "module gone"; return 1; }
}

t_rmmod_after_stop() {
	rmmod kuif || return 1
	[ ! -e /dev/kuif ] || { echo "/dev/kuif still present"; return 1; }
	[ ! -d /sys/module/kuif ] || { echo "/sys/module/kuif still present"; return 1; }
}

t_load_unload_20_times() {
	local i
	for i in $(seq 20); do
		modprobe kuif || { echo "load $i failed"; return 1; }
		printf "cycle $i" > /dev/kuif || { echo "write $i failed"; return 1; }
		rmmod kuif || { echo "unload $i failed"; return 1; }
	done
}

check kuifd_stops_cleanly t_kuifd_stops_cleanly
check rmmod_busy_while_open t_rmmod_busy_while_open
check rmmod_after_stop t_rmmod_after_stop
check load_unload_20_times t_load_unload_20_times
