# SPDX-License-Identifier: GPL-2.0
# kuif: kernel module, daemon, clients, service files and tests.
#
#   make                 build kuifd, the clients and kuif.ko for every
#                        kernel with headers in /lib/modules/*/build
#   make KVER=...        the module for that kernel only
#   make install         DESTDIR=... PREFIX=/usr
#   make check           unit tests, then the VM suite on every kernel
#   make check-debug     the VM suite in a debug kernel (lockdep, KFENCE, ...)
#   make demo            boot a VM with kuif.ko and kuifd, stream events
#   make deps            install the Debian packages needed (idempotent)
#   make bench           kuifd against direct readers; bench/results/

PREFIX		?= /usr
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
LIBEXECDIR	?= $(PREFIX)/libexec
INCLUDEDIR	?= $(PREFIX)/include
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/kuif
PYTHONDIR	?= $(PREFIX)/lib/python3/dist-packages
BASHCOMPDIR	?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR	?= $(PREFIX)/share/zsh/vendor-completions
SYSCONFDIR	?= /etc
UNITDIR		?= /lib/systemd/system
SYSUSERSDIR	?= /usr/lib/sysusers.d
CATALOGDIR	?= /usr/lib/systemd/catalog
TMPFILESDIR	?= /usr/lib/tmpfiles.d
POLKITRULESDIR	?= /usr/share/polkit-1/rules.d
UDEVRULESDIR	?= /lib/udev/rules.d
MODULESDIR	?= /lib/modules
LIBDIR		?= $(PREFIX)/lib/$(shell gcc -print-multiarch 2>/dev/null)
LIBKUIF_SOVERSION := 0

BUILD		:= build
KVERS		:= $(if $(KVER),$(KVER),$(sort $(notdir $(patsubst %/build,%,\
		   $(wildcard /lib/modules/*/build)))))

PKGS		:= libnl-genl-3.0 libevent libsystemd jansson inih
CC		?= cc
CFLAGS		?= -O2 -g
CFLAGS		+= $(WERROR) -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -Ikmod/include/uapi \
		   -Iclients/lib $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_DAEMON	:= $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LDLIBS_CTL	:= $(shell pkg-config --libs jansson 2>/dev/null)

DAEMON_SRCS	:= $(wildcard daemon/*.c)
DAEMON_OBJS	:= $(DAEMON_SRCS:%.c=$(BUILD)/%.o)
DAEMON_LIB_OBJS	:= $(filter-out $(BUILD)/daemon/main.o,$(DAEMON_OBJS))
HEADERS		:= daemon/kuifd.h daemon/persist.h kmod/include/uapi/kuif.h
KMOD_SRCS	:= $(wildcard kmod/*.c kmod/*.h kmod/include/uapi/*.h) kmod/Kbuild
MODULES		:= $(KVERS:%=$(BUILD)/kmod/%/kuif.ko)

UNIT_TESTS	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,\
		   $(wildcard tests/unit/test_*.c))

.PHONY: all modules userspace install uninstall check check-run unit vm deps \
	demo demo-run sparse fuzz bench clean check-debug
.DELETE_ON_ERROR:

all: userspace modules

EXAMPLES	:= $(patsubst clients/examples/%.c,$(BUILD)/examples/%,\
		   $(wildcard clients/examples/*.c))

BENCH_PROGS	:= $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

# libkuif in other event loops (docs/libkuif.md); defined before the rules
# whose prerequisites name them, which make expands as it reads.
LIBKUIF_EXAMPLES := $(patsubst docs/examples/%.c,$(BUILD)/docs-examples/%,\
		   $(wildcard docs/examples/libkuif-*.c))

userspace: $(BUILD)/kuifd $(BUILD)/kuifctl $(BUILD)/kuif-upcall $(EXAMPLES) \
	$(BUILD)/libkuif.so.$(LIBKUIF_SOVERSION) $(BUILD)/libkuif.a $(BUILD)/kuif.pc \
	$(BUILD)/kfuzz $(BENCH_PROGS) $(LIBKUIF_EXAMPLES)

modules: $(MODULES)

# kuifd calls libc and libevent through the GOT, not a PLT stub: one
# jump less per call, 4% of its time on the ring path under emulation.
$(DAEMON_OBJS): CFLAGS += -fno-plt

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/kuifd: $(DAEMON_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_DAEMON)

# kuifd with AddressSanitizer, UndefinedBehaviorSanitizer and LeakSanitizer,
# for the host integration tests.
SANITIZE	:= -fsanitize=address,undefined -fno-omit-frame-pointer -O1
$(BUILD)/asan/kuifd: $(DAEMON_SRCS) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANITIZE) -o $@ $(DAEMON_SRCS) $(LDLIBS_DAEMON)

$(BUILD)/asan/kuifctl: clients/kuifctl/kuifctl.c clients/lib/kuif-client.c \
		clients/lib/kuif-client.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANITIZE) -o $@ clients/kuifctl/kuifctl.c \
		clients/lib/kuif-client.c $(LDLIBS_CTL)

# libkuif: shared and static, and kuifctl linked against it.
# Only the symbols in libkuif.map are exported (check: nm -D --defined-only).
$(BUILD)/lib/kuif-client.o: clients/lib/kuif-client.c clients/lib/kuif-client.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=default -c -o $@ $<

$(BUILD)/libkuif.so.$(LIBKUIF_SOVERSION): $(BUILD)/lib/kuif-client.o clients/lib/libkuif.map
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libkuif.so.$(LIBKUIF_SOVERSION) \
		-Wl,--version-script=clients/lib/libkuif.map \
		-o $@ $(BUILD)/lib/kuif-client.o $(LDLIBS_CTL)

# libkuif in other event loops (docs/libkuif.md), linked against the shared
# library; run by tests/host/test_clients.py.
$(BUILD)/docs-examples/%: docs/examples/%.c clients/lib/kuif-client.h \
		$(BUILD)/libkuif.so.$(LIBKUIF_SOVERSION)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libkuif.so.$(LIBKUIF_SOVERSION) \
		-Wl,-rpath,'$$ORIGIN/..' $(LDLIBS_DAEMON)

# libkuif's own tests (cmocka, a fake kuifd in the test), with sanitizers.
$(BUILD)/tests/test_libkuif: tests/unit/test_libkuif.c clients/lib/kuif-client.c \
		clients/lib/kuif-client.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SANITIZE) -o $@ tests/unit/test_libkuif.c \
		clients/lib/kuif-client.c $(LDLIBS_CTL) -lcmocka

$(BUILD)/libkuif.a: $(BUILD)/lib/kuif-client.o
	$(AR) rcs $@ $^

$(BUILD)/kuif.pc: clients/lib/kuif.pc.in
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(shell sed -n 's/.*KUIF_VERSION_STRING.*"\(.*\)"/\1/p' kmod/include/uapi/kuif.h)|' $< > $@

$(BUILD)/clients/kuifctl/kuifctl.o: clients/lib/kuif-client.h
$(BUILD)/kuifctl: $(BUILD)/clients/kuifctl/kuifctl.o $(BUILD)/libkuif.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_CTL)

$(BUILD)/kuif-upcall: $(BUILD)/clients/upcall/kuif-upcall.o
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs jansson libsystemd 2>/dev/null)

# One program per mechanism; each links what it needs of these.
$(BUILD)/examples/%: $(BUILD)/clients/examples/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS_DAEMON)

# The kernel fuzzer, run by the VM suite (tests/vm/tests.d/70-kfuzz.sh).
KFUZZ_SRCS	:= $(wildcard tests/fuzz/kernel/*.c)
$(BUILD)/kfuzz: $(KFUZZ_SRCS) tests/fuzz/kernel/kfuzz.h kmod/include/uapi/kuif.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $(KFUZZ_SRCS)

# The benchmark's readers and driver (bench/), run inside the VM.
$(BENCH_PROGS): $(BUILD)/bench/%: bench/%.c bench/bench.h $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS_DAEMON)

# Each kernel gets its own copy of the sources: kbuild writes its objects
# next to them, and two kernels must not share objects. KDIR, with KVER,
# names a build tree outside /lib/modules (the debug kernel's).
$(BUILD)/kmod/%/kuif.ko: $(KMOD_SRCS)
	@mkdir -p $(BUILD)/kmod/$*
	cp -a kmod/. $(BUILD)/kmod/$*/
	$(MAKE) -C $(or $(KDIR),/lib/modules/$*/build) M=$(CURDIR)/$(BUILD)/kmod/$* modules

# Static analysis of the module with sparse, for every kernel.
sparse: $(MODULES)
	@set -e; for k in $(KVERS); do \
		touch $(BUILD)/kmod/$$k/*.c; \
		$(MAKE) -s -C /lib/modules/$$k/build M=$(CURDIR)/$(BUILD)/kmod/$$k \
			C=1 CHECK="sparse -Wno-decl" modules 2>&1 | \
			grep -v 'Skipping BTF' | tee $(BUILD)/sparse-$$k.log; \
	done

$(BUILD)/tests/%: tests/unit/%.c $(DAEMON_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Idaemon -o $@ $(filter-out %.h,$^) $(LDLIBS_DAEMON) -lcmocka

# The bus model, shared by the property test and the bus fuzzer.
$(BUILD)/tests/test_bus_property $(BUILD)/fuzz/fuzz_bus: tests/unit/bus_model.h

# libFuzzer targets (clang, ASan, UBSan), one per parser; seed corpora in
# tests/fuzz/corpus/NAME. `make fuzz FUZZ_SECONDS=60` runs each that long.
FUZZ_TARGETS	:= $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,\
		   $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_CFLAGS	:= -g -O1 -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE \
		   -Ikmod/include/uapi -Idaemon \
		   $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SECONDS	?= 60

$(BUILD)/fuzz/%: tests/fuzz/%.c $(filter-out daemon/main.c,$(DAEMON_SRCS)) $(HEADERS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(filter-out daemon/main.c,$(DAEMON_SRCS)) \
		$(LDLIBS_DAEMON)

fuzz: $(FUZZ_TARGETS)
	@set -e; for t in $(FUZZ_TARGETS); do \
		n=$$(basename $$t); n=$${n#fuzz_}; \
		mkdir -p $(BUILD)/fuzz-corpus/$$n; \
		echo "== $$n for $(FUZZ_SECONDS) s"; \
		$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			$(BUILD)/fuzz-corpus/$$n tests/fuzz/corpus/$$n 2>&1 | \
			grep -E 'stat::number_of_executed_units|ERROR|SUMMARY'; \
	done

# Installed files: "source destination mode", one per line.
define INSTALL_LIST
$(BUILD)/kuifd $(SBINDIR)/kuifd 0755
$(BUILD)/kuifctl $(BINDIR)/kuifctl 0755
$(BUILD)/kuif-upcall $(LIBEXECDIR)/kuif/kuif-upcall 0755
kmod/include/uapi/kuif.h $(INCLUDEDIR)/kuif/kuif.h 0644
clients/lib/kuif-client.h $(INCLUDEDIR)/kuif/kuif-client.h 0644
$(BUILD)/libkuif.so.$(LIBKUIF_SOVERSION) $(LIBDIR)/libkuif.so.$(LIBKUIF_SOVERSION) 0644
$(BUILD)/libkuif.a $(LIBDIR)/libkuif.a 0644
$(BUILD)/kuif.pc $(LIBDIR)/pkgconfig/kuif.pc 0644
systemd/kuifd.service $(UNITDIR)/kuifd.service 0644
systemd/kuifd.socket $(UNITDIR)/kuifd.socket 0644
systemd/kuif.sysusers $(SYSUSERSDIR)/kuif.conf 0644
systemd/kuifd.catalog $(CATALOGDIR)/kuifd.catalog 0644
systemd/kuif.modules-load $(SYSCONFDIR)/modules-load.d/kuif.conf 0644
systemd/kuifd.tmpfiles $(TMPFILESDIR)/kuifd.conf 0644
conf/kuifd.conf $(SYSCONFDIR)/kuifd/kuifd.conf 0644
conf/actions.d/50-examples.conf $(SYSCONFDIR)/kuifd/actions.d/50-examples.conf 0644
systemd/kuifd-actions.rules $(POLKITRULESDIR)/50-kuifd-actions.rules 0644
systemd/kuif-action-netlog@.service $(UNITDIR)/kuif-action-netlog@.service 0644
systemd/kuif-action-generator@.service $(UNITDIR)/kuif-action-generator@.service 0644
docs/man/kuifd-actions.5 $(MANDIR)/man5/kuifd-actions.5 0644
conf/60-kuif.rules $(UDEVRULESDIR)/60-kuif.rules 0644
conf/kuif-modprobe.conf $(SYSCONFDIR)/modprobe.d/kuif.conf 0644
docs/man/kuifd.8 $(MANDIR)/man8/kuifd.8 0644
docs/man/kuifctl.1 $(MANDIR)/man1/kuifctl.1 0644
docs/man/kuifd.conf.5 $(MANDIR)/man5/kuifd.conf.5 0644
docs/man/kuif.4 $(MANDIR)/man4/kuif.4 0644
docs/man/kuif-events.7 $(MANDIR)/man7/kuif-events.7 0644
docs/events.md $(DOCDIR)/events.md 0644
docs/schema/kuifd-records.schema.json $(DOCDIR)/schema/kuifd-records.schema.json 0644
clients/python/kuif.py $(PYTHONDIR)/kuif.py 0644
docs/protocol.md $(DOCDIR)/protocol.md 0644
docs/examples/kuif-monitor.py $(DOCDIR)/examples/kuif-monitor.py 0644
clients/completion/kuifctl $(BASHCOMPDIR)/kuifctl 0644
clients/completion/_kuifctl $(ZSHCOMPDIR)/_kuifctl 0644
docs/libkuif.md $(DOCDIR)/libkuif.md 0644
docs/fleet.md $(DOCDIR)/fleet.md 0644
docs/examples/libkuif-poll.c $(DOCDIR)/examples/libkuif-poll.c 0644
docs/examples/libkuif-libevent.c $(DOCDIR)/examples/libkuif-libevent.c 0644
docs/examples/libkuif-sdevent.c $(DOCDIR)/examples/libkuif-sdevent.c 0644
endef
export INSTALL_LIST

install: all
	@echo "$$INSTALL_LIST" | while read -r src dst mode; do \
		[ -n "$$src" ] || continue; \
		echo "install $$src -> $(DESTDIR)$$dst"; \
		install -D -m "$$mode" "$$src" "$(DESTDIR)$$dst" || exit 1; \
	done
	ln -sf libkuif.so.$(LIBKUIF_SOVERSION) $(DESTDIR)$(LIBDIR)/libkuif.so
	@set -e; for k in $(KVERS); do \
		echo "install kuif.ko -> $(DESTDIR)$(MODULESDIR)/$$k/updates/kuif.ko"; \
		install -D -m 0644 $(BUILD)/kmod/$$k/kuif.ko \
			$(DESTDIR)$(MODULESDIR)/$$k/updates/kuif.ko; \
		if [ -z "$(DESTDIR)" ]; then depmod -a $$k; fi; \
	done
	@if [ -z "$(DESTDIR)" ]; then journalctl --update-catalog || true; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libkuif.so
	@echo "$$INSTALL_LIST" | while read -r src dst mode; do \
		[ -n "$$dst" ] || continue; \
		rm -fv "$(DESTDIR)$$dst"; \
	done
	-rmdir $(DESTDIR)$(INCLUDEDIR)/kuif $(DESTDIR)$(SYSCONFDIR)/kuifd/actions.d \
		$(DESTDIR)$(SYSCONFDIR)/kuifd \
		$(DESTDIR)$(LIBEXECDIR)/kuif \
		$(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR)/schema \
		$(DESTDIR)$(DOCDIR) 2>/dev/null
	@for m in $(DESTDIR)$(MODULESDIR)/*/updates/kuif.ko; do \
		[ -e "$$m" ] || continue; \
		rm -fv "$$m"; \
		rmdir "$$(dirname "$$m")" 2>/dev/null || true; \
		if [ -z "$(DESTDIR)" ]; then \
			depmod -a "$$(basename "$$(dirname "$$(dirname "$$m")")")"; fi; \
	done

deps:
	./scripts/deps.sh

# The debug lane: the whole VM suite, kfuzz and kuif_hello(2) in a Linux
# 6.12 with lockdep, KFENCE, UBSAN, kmemleak and debug objects, built once
# by scripts/debug-kernel.sh (an hour or more) and cached outside the tree.
check-debug: userspace
	./scripts/debug-kernel.sh check

# Benchmarks print figures and ratios; they are not tests. The host's
# callgrind count, then kuifd against the direct readers in one VM boot of
# BENCH_KVER (the newest kernel); BENCH_SCALE=0.1 and the other BENCH_*
# variables of bench/vm/bench.sh shorten it. Results: bench/results/.
BENCH_KVER	?= $(lastword $(KVERS))
bench: all
	@mkdir -p bench/results
	python3 bench/host_callgrind.py $(BUILD)/kuifd 2000 1 16 64 | \
		tee bench/results/host-callgrind.md
	python3 bench/host_steady.py $(BUILD)/kuifd | \
		tee bench/results/host-steady.txt
	./tests/vm/run --bench --kernel $(BENCH_KVER)
	python3 bench/render.py $(BUILD)/vm/$(BENCH_KVER)/results/bench \
		bench/results --callgrind bench/results/host-callgrind.md \
		--steady bench/results/host-steady.txt

# Each of these brings in what it needs, so a fresh machine needs nothing
# else typed. The sub-make sees the kernels that deps may have installed.
check: deps
	$(MAKE) check-run WERROR=-Werror

check-run: all $(UNIT_TESTS) $(BUILD)/asan/kuifd $(BUILD)/asan/kuifctl \
	$(FUZZ_TARGETS)
	./scripts/check.sh $(KVERS:%=--kernel %)

unit: $(UNIT_TESTS) $(BUILD)/asan/kuifd $(BUILD)/asan/kuifctl $(FUZZ_TARGETS) \
	$(LIBKUIF_EXAMPLES)
	./scripts/check.sh --unit-only

vm: all
	./tests/vm/run $(KVERS:%=--kernel %)

demo: deps
	$(MAKE) demo-run

demo-run: all
	./tests/vm/run --demo --kernel $(lastword $(KVERS))

clean:
	rm -rf $(BUILD)
