# SPDX-License-Identifier: GPL-2.0-or-later
# sockreap — plain make. `make V=1` shows the commands.

VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# Debian's zsh reads packages' completions from vendor-completions and the local admin's from
# /usr/local/share/zsh/site-functions; fish and bash look under PREFIX/share either way.
ifeq ($(PREFIX),/usr)
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/vendor-completions
else
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
endif
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
LOGROTATEDIR ?= $(SYSCONFDIR)/logrotate.d
# Debian 12 ships its units in /lib/systemd/system; a local install goes where systemd also
# looks, under PREFIX.
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= /lib/systemd/system
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libnl-3.0 libcap-ng libbpf jansson libnetfilter_conntrack
# Headers only: watch loads libsystemd with dlopen (src/watch.c says why).
HDR_PKGS := libsystemd

# Debian packages: to build (debian/control's Build-Depends must list these, less
# build-essential: tests/integration/test_install.sh checks it), to test, demo and benchmark,
# and to build the .deb and try it in a clean root (make deb-check). `make print-deps` prints
# them all: CI installs that. clang and libbpf-dev build the owner lookup's BPF program.
BUILD_PKGS := build-essential pkg-config libnl-3-dev libcap-ng-dev clang libbpf-dev bpftool \
	libjansson-dev libnetfilter-conntrack-dev \
	libsystemd-dev
TEST_PKGS := clang libclang-rt-dev libcmocka-dev iproute2 jq util-linux procps nftables \
	libcap2-bin bc logrotate conntrack python3 groff-base gcc-aarch64-linux-gnu $(RUNBOOK_PKGS)
# The servers the incident runbooks (tests/runbooks/) stage their incidents with.
RUNBOOK_PKGS := redis-server redis-tools postgresql
# The arm64 run of --close-fd (make check-aarch64; .ci/run installs it without Recommends:
# qemu's GUI and firmware add ~60 MB and are not needed).
AARCH64_PKGS := qemu-system-arm
DIST_PKGS := debhelper lintian debootstrap
DEB_PKGS := $(BUILD_PKGS) $(TEST_PKGS) $(DIST_PKGS)

# CPPFLAGS, CFLAGS and LDFLAGS belong to whoever builds (dpkg-buildflags' hardening flags, or
# `make CFLAGS=-O0`); what the code needs to build at all lives in SR_* and is always added.
CFLAGS ?= -O2 -g
# The BPF owner lookup (src/bpf/): compiled for the BPF target and embedded by src/taskfiles.c.
TASKFILES_OBJ := build/bpf/taskfiles.bpf.o
# Its light skeleton (bpftool gen skeleton -L): the loader src/taskfiles.c tries first.
TASKFILES_LSKEL := build/bpf/taskfiles.lskel.h
# Debian installs bpftool in /usr/sbin, which a user's PATH may lack.
BPFTOOL ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
# The watcher's state tracker (src/bpf/statetrack.bpf.c), embedded by src/statetrack.c.
STATETRACK_OBJ := build/bpf/statetrack.bpf.o
SR_CPPFLAGS := -D_GNU_SOURCE -Iinclude -Ibuild/bpf -DSOCKREAP_VERSION='"$(VERSION)"' \
	-DSOCKREAP_TASKFILES_OBJ='"$(TASKFILES_OBJ)"' \
	-DSOCKREAP_STATETRACK_OBJ='"$(STATETRACK_OBJ)"'
SR_CFLAGS := -std=gnu11 -pthread -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral
# -Werror is for the developer and test builds (make check, clang-check, sanitizers, tests):
# a release build with a newer compiler must not fail on a new warning.
WERROR ?=
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) $(HDR_PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)
ALL_CFLAGS = $(SR_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(SR_CFLAGS) $(WERROR) $(CFLAGS)
DEV_CFLAGS = $(SR_CPPFLAGS) $(PKG_CFLAGS) $(CPPFLAGS) $(SR_CFLAGS) -Werror $(CFLAGS)

# -target bpf does not search the multiarch include directory that <asm/types.h> is in.
BPF_CLANG ?= clang
BPF_CFLAGS := -target bpf -O2 -g -Wall $(WERROR) -Iinclude \
	-I/usr/include/$(shell gcc -print-multiarch 2>/dev/null)

# SOCKREAP_TESTING: the test build's seams (grep for it); the installed binary has none.
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -DSOCKREAP_TESTING

ifeq ($(V),1)
Q :=
else
Q := @
endif

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=build/obj/%.o)
SAN_OBJS := $(LIB_SRCS:src/%.c=build/san/%.o)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=build/tests/%)
HELPERS := build/tests/sockrig build/tests/logsink build/tests/pairrig build/tests/sshdrig \
	build/tests/churnrig build/tests/faildump.so build/tests/echorig build/tests/readrig \
	build/tests/leakrig build/tests/trackrig build/tests/blockrig

.SECONDARY:
.PHONY: all check check-runbooks check-aarch64 aarch64-kernel print-aarch64-deps install uninstall clean deps print-deps demo clang-check fuzz bench bench-table FORCE \
	deb-check

all: sockreap

sockreap: build/obj/main.o build/obj/libsockreap.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/obj/libsockreap.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

# The flags each build used: a change (make CFLAGS=...) rebuilds its objects. Not WERROR, which
# changes no object: make check after make would rebuild everything for nothing.
build/obj/flags: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(CC) $(filter-out $(WERROR),$(ALL_CFLAGS)))' | \
		cmp -s - $@ || \
		printf '%s\n' '$(subst ','\'',$(CC) $(filter-out $(WERROR),$(ALL_CFLAGS)))' >$@
build/san/flags: FORCE
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(subst ','\'',$(CC) $(DEV_CFLAGS) $(SAN_FLAGS))' | cmp -s - $@ || \
		printf '%s\n' '$(subst ','\'',$(CC) $(DEV_CFLAGS) $(SAN_FLAGS))' >$@
FORCE:

build/obj/%.o: src/%.c build/obj/flags
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(TASKFILES_OBJ): src/bpf/taskfiles.bpf.c src/bpf/kernel_sock.h include/taskfiles.h
	@mkdir -p $(dir $@)
	@echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

$(TASKFILES_LSKEL): $(TASKFILES_OBJ)
	@echo "  LSKEL   $@"
	$(Q)$(BPFTOOL) gen skeleton -L $< name taskfiles_lskel >$@.tmp && mv $@.tmp $@

build/obj/taskfiles.o build/san/taskfiles.o: $(TASKFILES_OBJ) $(TASKFILES_LSKEL)

$(STATETRACK_OBJ): src/bpf/statetrack.bpf.c src/bpf/kernel_sock.h include/statetrack.h
	@mkdir -p $(dir $@)
	@echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

build/obj/statetrack.o build/san/statetrack.o: $(STATETRACK_OBJ)

# The test build: everything under AddressSanitizer and UndefinedBehaviorSanitizer.
build/san/%.o: src/%.c build/san/flags
	@mkdir -p $(dir $@)
	@echo "  CC san  $@"
	$(Q)$(CC) $(DEV_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

build/san/libsockreap.a: $(SAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/san/sockreap: build/san/main.o build/san/libsockreap.a
	@echo "  LD san  $@"
	$(Q)$(CC) $(DEV_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/tests/%.o: tests/unit/%.c build/san/flags
	@mkdir -p $(dir $@)
	@echo "  CC test $@"
	$(Q)$(CC) $(DEV_CFLAGS) $(SAN_FLAGS) -MMD -MP -c -o $@ $<

# Fakes of the system seams a suite needs; they come before the library, so they replace
# its members.
FAKES_engine := build/tests/fake_diag.o build/tests/fake_rawio.o
FAKES_planfile := build/tests/fake_diag.o
FAKES_engine_shutdown := build/tests/fake_diag.o build/tests/fake_rawio.o \
	build/tests/fake_ownerfd.o
FAKES_forward := build/tests/fake_fwdnet.o

.SECONDEXPANSION:
build/tests/test_%: build/tests/test_%.o $$(FAKES_$$*) build/san/libsockreap.a
	@echo "  LD test $@"
	$(Q)$(CC) $(DEV_CFLAGS) $(SAN_FLAGS) $(LDFLAGS) -o $@ $< $(FAKES_$*) build/san/libsockreap.a \
		$(PKG_LIBS) $(CMOCKA_LIBS)

build/tests/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(DEV_CFLAGS) -MMD -MP $(LDFLAGS) -o $@ $<

# LD_PRELOAD shims for the integration tests (faildump.so: a sock_diag dump that fails).
build/tests/%.so: tests/helpers/%.c
	@mkdir -p $(dir $@)
	@echo "  CC so   $@"
	$(Q)$(CC) $(DEV_CFLAGS) -MMD -MP -shared -fPIC $(LDFLAGS) -o $@ $< -ldl

# libFuzzer (clang only): `make fuzz FUZZ_SECONDS=3600`; make check runs it briefly.
# One target per parser; `make fuzz FUZZ_TARGET=cli` runs one of them. New inputs go to
# build/fuzz/corpus/TARGET, crashes to build/fuzz/artifacts/TARGET/ (a crash that is fixed
# goes into tests/fuzz/corpus/TARGET as a regression seed).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := selector diag packet cli netns planfile watch
FUZZ_TARGET ?= $(FUZZ_TARGETS)
FUZZ_CC := clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Iinclude -Ibuild/bpf -Itests/unit \
	-DSOCKREAP_TASKFILES_OBJ='"$(TASKFILES_OBJ)"' \
	-DSOCKREAP_STATETRACK_OBJ='"$(STATETRACK_OBJ)"'
FUZZ_SRCS_selector := src/selector_lex.c src/selector_parse.c src/selector_eval.c \
	src/selector_bc.c src/sock.c src/cgroup.c src/conntrack.c
# conntrack.c: the flow words' state names (and libnetfilter_conntrack for its records).
FUZZ_LIBS_selector = $(PKG_LIBS)
FUZZ_SRCS_packet := src/packet.c
FUZZ_SRCS_netns := src/netns.c
FUZZ_SRCS_planfile := src/planfile.c src/sha256.c src/sock.c
# The dump records go on through the output, and the command line through everything cli.c
# calls: those two take the whole library, so that a new dependency cannot break their link.
FUZZ_SRCS_diag := $(LIB_SRCS)
FUZZ_SRCS_cli := $(LIB_SRCS)
FUZZ_SRCS_watch := $(LIB_SRCS)
FUZZ_LIBS_diag = $(PKG_LIBS)
FUZZ_LIBS_cli = $(PKG_LIBS)
FUZZ_LIBS_planfile = $(shell $(PKG_CONFIG) --libs jansson 2>/dev/null)
FUZZ_LIBS_watch = $(PKG_LIBS)
FUZZ_LDFLAGS_cli := -Wl,--wrap=cgroup_root
FUZZ_LDFLAGS_watch := -Wl,--wrap=cgroup_root
# The longest input each reads: a selector, a dump buffer, a captured frame, a command line,
# a mountinfo line, a plan file, a few watch rules.
FUZZ_MAXLEN_selector := 512
FUZZ_MAXLEN_diag := 4096
FUZZ_MAXLEN_packet := 256
FUZZ_MAXLEN_cli := 1024
FUZZ_MAXLEN_netns := 4096
FUZZ_MAXLEN_planfile := 16384
FUZZ_MAXLEN_watch := 2048

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(wildcard include/*.h tests/fuzz/*.h) \
		tests/unit/fixtures.h $(TASKFILES_OBJ) $(TASKFILES_LSKEL) $(STATETRACK_OBJ)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(PKG_CFLAGS) -o $@ $< $(FUZZ_SRCS_$*) $(FUZZ_LDFLAGS_$*) $(FUZZ_LIBS_$*)

fuzz: $(FUZZ_TARGET:%=fuzz-%)

.PHONY: $(FUZZ_TARGETS:%=fuzz-%)
$(FUZZ_TARGETS:%=fuzz-%): fuzz-%: build/fuzz/fuzz_%
	@mkdir -p build/fuzz/corpus/$* build/fuzz/artifacts/$*
	@echo "  FUZZ    $* for $(FUZZ_SECONDS) s"
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=$(FUZZ_MAXLEN_$*) \
		-artifact_prefix=build/fuzz/artifacts/$*/ build/fuzz/corpus/$* tests/fuzz/corpus/$*

# The plain build too: test_owners.sh gives a copy file capabilities and runs it as nobody.
check: deps
	$(Q)$(MAKE) --no-print-directory WERROR=-Werror sockreap build/san/sockreap $(UNIT_BINS) \
		$(HELPERS) $(BENCH_BINS) $(if $(HAVE_AARCH64_CC),$(AARCH64_INITRD))
	$(Q)if command -v clang >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=build/fuzz/fuzz_%); fi
	$(Q)$(MAKE) --no-print-directory clang-check
	$(Q)tests/run.sh $(UNIT_BINS)

# The incident runbooks alone (make check runs them too): each stages an incident in namespaces
# and resolves it with the command sockreap(8)'s RUNBOOKS section prints. Root.
check-runbooks: deps
	$(Q)$(MAKE) --no-print-directory WERROR=-Werror build/san/sockreap build/tests/echorig
	$(Q)TEST_SCRIPTS='tests/runbooks/test_*.sh' tests/run.sh

# --close-fd on a real arm64 kernel (tests/aarch64/): a static aarch64 /init built with
# src/closefd.c, booted under qemu-system-aarch64 (TCG) with Debian's cloud arm64 kernel, which
# aarch64-kernel fetches into build/aarch64 (21 MB; no multiarch set-up, nothing installed).
# tests/integration/test_arch.sh runs it when both are here: make check runs it too.
AARCH64_CC ?= aarch64-linux-gnu-gcc
AARCH64_INITRD := build/aarch64/initramfs.cpio
HAVE_AARCH64_CC := $(shell command -v $(AARCH64_CC) 2>/dev/null)

build/aarch64/init: tests/aarch64/closefd_init.c src/closefd.c include/closefd.h
	@mkdir -p $(dir $@)
	@echo "  CC a64  $@"
	$(Q)$(AARCH64_CC) -static -std=gnu11 -D_GNU_SOURCE -O2 -g -pthread -Wall -Wextra -Wshadow \
		-Werror -Iinclude -o $@ tests/aarch64/closefd_init.c src/closefd.c

$(AARCH64_INITRD): build/aarch64/init tests/aarch64/mkcpio.py
	@echo "  CPIO    $@"
	$(Q)python3 tests/aarch64/mkcpio.py $@ $<

aarch64-kernel:
	$(Q)tests/aarch64/fetch-kernel.sh build/aarch64

check-aarch64: aarch64-kernel $(AARCH64_INITRD)
	$(Q)command -v qemu-system-aarch64 >/dev/null || { echo "sockreap: make check-aarch64" \
		"needs qemu-system-aarch64: apt-get install --no-install-recommends" \
		"$(AARCH64_PKGS)" >&2; exit 1; }
	$(Q)TEST_SCRIPTS=tests/integration/test_arch.sh tests/run.sh

print-aarch64-deps:
	@echo $(AARCH64_PKGS)

# -Werror under the other compiler too, when it is here (make deps installs it).
clang-check: $(TASKFILES_LSKEL)
	$(Q)if command -v clang >/dev/null 2>&1; then \
		echo "  CLANG   -Wall -Wextra -Werror"; \
		for f in src/*.c tests/unit/*.c tests/helpers/*.c tests/fuzz/*.c tests/aarch64/*.c; do \
			clang $(DEV_CFLAGS) -Itests/unit \
				-fsyntax-only $$f || exit 1; \
		done; \
	else echo "  CLANG   skipped: clang is not installed"; fi

deps:
	$(Q)missing=""; \
	for p in $(PKGS) cmocka; do $(PKG_CONFIG) --exists $$p 2>/dev/null || missing=1; done; \
	for t in cc clang ip ss jq setpriv nft setcap bc logrotate redis-server redis-cli psql; do \
		command -v $$t >/dev/null 2>&1 || missing=1; done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing=1; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "sockreap: build dependencies are missing; as root, run:" >&2; \
			echo "  apt-get update && apt-get install -y $(BUILD_PKGS) $(TEST_PKGS)" >&2; \
			exit 1; \
		fi; \
		echo "  DEPS    apt-get install $(BUILD_PKGS) $(TEST_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $(BUILD_PKGS) $(TEST_PKGS) >/dev/null || exit 1; \
	fi

# Benchmarks against the anchors in the same run (root: it builds its workload in a namespace).
BENCH_BINS := build/bench/holder build/bench/nsholder build/bench/measure build/bench/floor \
	build/bench/auditfmt build/bench/tablefmt

build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ $<

# The audit intents' formatting alone (CPU time, no root): `build/bench/auditfmt [N] [RUNS]`.
# Linked with the release build's library, as the installed binary formats them.
build/bench/auditfmt: bench/auditfmt.c build/obj/libsockreap.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(DEV_CFLAGS) $(LDFLAGS) -o $@ $< build/obj/libsockreap.a $(PKG_LIBS)

# The table's formatting alone, likewise: `make bench-table`, or
# `build/bench/tablefmt [N [RUNS [COLS [preview]]]]`.
build/bench/tablefmt: bench/tablefmt.c build/obj/libsockreap.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(DEV_CFLAGS) $(LDFLAGS) -o $@ $< build/obj/libsockreap.a $(PKG_LIBS)

bench-table: build/bench/tablefmt
	$(Q)build/bench/tablefmt 100000 5

bench: deps
	$(Q)$(MAKE) --no-print-directory sockreap $(BENCH_BINS) build/tests/churnrig
	$(Q){ bench/run.sh; echo $$? >build/bench/status; } | tee build/bench/results.md; \
		exit "$$(cat build/bench/status)"

print-deps:
	@echo $(DEB_PKGS)

# Build the .deb from the tracked files, lintian, install it into a debootstrap minbase root
# and run sockreap doctor there (about a minute; needs root and the Debian mirror).
deb-check:
	$(Q)tests/deb_check.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory sockreap build/tests/sockrig
	$(Q)tests/demo.sh

# Installed files other than the program, man page and completions live in dist/ (the
# logrotate file for /var/log/sockreap, the sockreap watch service, its ExecStart pointed at
# SBINDIR). uninstall removes these files and nothing else
# (directories stay: they may have been there before).
install: sockreap
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR) $(DESTDIR)$(LOGROTATEDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0755 sockreap $(DESTDIR)$(SBINDIR)/sockreap
	install -m 0644 man/sockreap.8 $(DESTDIR)$(MANDIR)/man8/sockreap.8
	install -m 0644 completions/sockreap.bash $(DESTDIR)$(BASHCOMPDIR)/sockreap
	install -m 0644 completions/_sockreap $(DESTDIR)$(ZSHCOMPDIR)/_sockreap
	install -m 0644 completions/sockreap.fish $(DESTDIR)$(FISHCOMPDIR)/sockreap.fish
	install -m 0644 dist/logrotate $(DESTDIR)$(LOGROTATEDIR)/sockreap
	sed 's|/usr/sbin/sockreap|$(SBINDIR)/sockreap|g' dist/sockreap-watch.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/sockreap-watch.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sockreap-watch.service

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sockreap $(DESTDIR)$(MANDIR)/man8/sockreap.8 \
		$(DESTDIR)$(BASHCOMPDIR)/sockreap $(DESTDIR)$(ZSHCOMPDIR)/_sockreap \
		$(DESTDIR)$(FISHCOMPDIR)/sockreap.fish $(DESTDIR)$(LOGROTATEDIR)/sockreap \
		$(DESTDIR)$(SYSTEMDUNITDIR)/sockreap-watch.service

clean:
	rm -rf build sockreap

-include $(wildcard build/*/*.d)
