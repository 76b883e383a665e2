# SPDX-License-Identifier: GPL-2.0
# Sourced by suite.sh: kuif_hello(2), the system call of
# kmod/syscall/kuif_hello-6.12.patch, called by number (463) from
# kmod/syscall/kuif-hello.c. The debug kernel (make check-debug) has it
# and must; Debian's kernels do not (on them 463 is unassigned, and on a
# later kernel it is another call, so its presence is read from
# /proc/kallsyms before anything calls it).

SC_HELLO=$HERE/kuif-hello
SC_TAG=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
SC_DEBUG_LANE=$(sed -n 's/^KUIF_DEBUG_LANE=//p' "$R/params" 2>/dev/null)

sc_present() {
	grep -qE ' (__x64_)?sys_kuif_hello$' /proc/kallsyms
}

# sc_logged TEXT: the kernel logged "kuif_hello: TEXT" as a whole line.
sc_logged() {
	dmesg | grep -qE "kuif_hello: $1\$"
}

t_sc_present() {
	sc_present || { echo "the kernel has no sys_kuif_hello: is the patch applied?"; return 1; }
	[ -x "$SC_HELLO" ] || { echo "$SC_HELLO missing"; return 1; }
}

t_sc_hello() {
	local out
	out=$("$SC_HELLO" "h$SC_TAG says hi") || { echo "$out"; return 1; }
	[ "$out" = "hello world" ] || { echo "reply '$out'"; return 1; }
	sc_logged "h$SC_TAG says hi" || { echo "no log line 'kuif_hello: h$SC_TAG says hi'"; return 1; }
}

# Only len bytes of the message are copied and logged.
t_sc_message_bounded_by_len() {
	local msg="b$SC_TAG"
	"$SC_HELLO" -l ${#msg} "${msg}OVERRUN" >/dev/null || return 1
	sc_logged "$msg" || { echo "no log line 'kuif_hello: $msg'"; return 1; }
	! dmesg | grep -q "${msg}O" || { echo "bytes past len were logged"; return 1; }
}

# 256 bytes are allowed, 257 are not (EINVAL, nothing logged).
t_sc_256_ok_257_einval() {
	local out pad
	"$SC_HELLO" -l 256 "m$SC_TAG" >/dev/null || { echo "256 bytes refused"; return 1; }
	pad=$(printf '%*s' $((256 - 1 - ${#SC_TAG})) '' | tr ' ' x)
	sc_logged "m$SC_TAG$pad" || { echo "the 256-byte message was not logged whole"; return 1; }
	if out=$("$SC_HELLO" -l 257 "l$SC_TAG" 2>&1); then
		echo "a 257-byte message was accepted"; return 1
	fi
	[ "$out" = "kuif_hello: Invalid argument" ] || { echo "257 bytes: '$out', want EINVAL"; return 1; }
	! dmesg | grep -q "kuif_hello: l$SC_TAG" || { echo "the refused message was logged"; return 1; }
}

t_sc_bad_message_pointer_efault() {
	local out
	if out=$("$SC_HELLO" -F msg 2>&1); then
		echo "an unmapped message was accepted"; return 1
	fi
	[ "$out" = "kuif_hello: Bad address" ] || { echo "'$out', want EFAULT"; return 1; }
}

t_sc_bad_reply_pointer_efault() {
	local out
	if out=$("$SC_HELLO" -F reply "f$SC_TAG" 2>&1); then
		echo "an unmapped reply buffer was accepted"; return 1
	fi
	[ "$out" = "kuif_hello: Bad address" ] || { echo "'$out', want EFAULT"; return 1; }
}

# "hello world" and its NUL need 12 bytes; 11 is ENOSPC, 12 is enough (and
# kuif-hello checks that nothing past the 12 bytes was written).
t_sc_reply_too_small_enospc() {
	local out
	if out=$("$SC_HELLO" -r 11 "s$SC_TAG" 2>&1); then
		echo "an 11-byte reply buffer was accepted"; return 1
	fi
	[ "$out" = "kuif_hello: No space left on device" ] || { echo "'$out', want ENOSPC"; return 1; }
	out=$("$SC_HELLO" -r 12 "t$SC_TAG") || return 1
	[ "$out" = "hello world" ] || { echo "reply '$out' in 12 bytes"; return 1; }
}

# The log line is rate-limited (printk_ratelimited: 10 lines in 5 s): of
# 50 calls in a burst at most 10 are logged, and once the interval is over
# the next call logs how many were suppressed.
t_sc_log_rate_limited() {
	local n
	sleep 6
	"$SC_HELLO" -n 50 "r$SC_TAG" >/dev/null || return 1
	n=$(dmesg | grep -c "kuif_hello: r$SC_TAG\$")
	[ "$n" -ge 1 ] && [ "$n" -le 10 ] || { echo "$n of 50 calls logged, want 1 to 10"; return 1; }
	sleep 6
	"$SC_HELLO" "e$SC_TAG" >/dev/null || return 1
	dmesg | sed -n "/kuif_hello: r$SC_TAG\$/,\$p" | grep -q 'kuif_hello: [0-9]* callbacks suppressed' ||
		{ echo "no 'callbacks suppressed' line after the burst"; return 1; }
	sc_logged "e$SC_TAG" || { echo "the call after the interval was not logged"; return 1; }
}

if sc_present; then
	check syscall.present t_sc_present
	check syscall.hello t_sc_hello
	check syscall.message_bounded_by_len t_sc_message_bounded_by_len
	check syscall.256_ok_257_einval t_sc_256_ok_257_einval
	check syscall.bad_message_pointer_efault t_sc_bad_message_pointer_efault
	check syscall.bad_reply_pointer_efault t_sc_bad_reply_pointer_efault
	check syscall.reply_too_small_enospc t_sc_reply_too_small_enospc
	check syscall.log_rate_limited t_sc_log_rate_limited
elif [ "$SC_DEBUG_LANE" = 1 ]; then
	check syscall.present t_sc_present
else
	echo "syscall: $(uname -r) has no kuif_hello(2): not tested here (make check-debug tests it)"
fi
