# sockreap — plain make. `make V=1` shows the commands.

VERSION := 0.1.0

PREFIX ?= /usr/local
DESTDIR ?=
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libnl-3.0 libcap-ng libbpf

# Debian packages the build, the tests and the demo need.
DEB_PKGS := build-essential clang libclang-rt-dev pkg-config libnl-3-dev libcap-ng-dev libcmocka-dev \
	libbpf-dev iproute2 jq util-linux procps nftables libcap2-bin

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
	-D_GNU_SOURCE -pthread -Iinclude -DSOCKREAP_VERSION='"$(VERSION)"' -MMD -MP \
	-DSOCKREAP_TASKFILES_OBJ='"$(TASKFILES_OBJ)"'
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS = $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# The BPF owner lookup (src/bpf/): compiled for the BPF target and embedded by src/taskfiles.c.
# -target bpf does not search the multiarch include directory that <asm/types.h> is in.
TASKFILES_OBJ := build/bpf/taskfiles.bpf.o
BPF_CLANG ?= clang
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -Iinclude \
	-I/usr/include/$(shell gcc -print-multiarch 2>/dev/null)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer

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
	build/tests/churnrig build/tests/faildump.so

.SECONDARY:
.PHONY: all check install uninstall clean deps print-deps demo clang-check fuzz bench

all: sockreap

sockreap: build/obj/main.o build/obj/libsockreap.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

build/obj/libsockreap.a: $(LIB_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(PKG_CFLAGS) -c -o $@ $<

$(TASKFILES_OBJ): src/bpf/taskfiles.bpf.c include/taskfiles.h
	@mkdir -p $(dir $@)
	@echo "  BPF     $@"
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c -o $@ $<

build/obj/taskfiles.o build/san/taskfiles.o: $(TASKFILES_OBJ)

# The test build: everything under AddressSanitizer and UndefinedBehaviorSanitizer.
build/san/%.o: src/%.c
	@mkdir -p $(dir $@)
	@echo "  CC san  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

build/san/libsockreap.a: $(SAN_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

build/san/sockreap: build/san/main.o build/san/libsockreap.a
	@echo "  LD san  $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $^ $(PKG_LIBS)

build/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@echo "  CC test $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) $(PKG_CFLAGS) -c -o $@ $<

# Fakes of the system seams a suite needs; they come before the library, so they replace
# its members.
FAKES_engine := build/tests/fake_diag.o build/tests/fake_rawio.o

.SECONDEXPANSION:
build/tests/test_%: build/tests/test_%.o $$(FAKES_$$*) build/san/libsockreap.a
	@echo "  LD test $@"
	$(Q)$(CC) $(CFLAGS) $(SAN_FLAGS) -o $@ $< $(FAKES_$*) build/san/libsockreap.a \
		$(PKG_LIBS) $(CMOCKA_LIBS)

build/tests/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -o $@ $<

# LD_PRELOAD shims for the integration tests (faildump.so: a sock_diag dump that fails).
build/tests/%.so: tests/helpers/%.c
	@mkdir -p $(dir $@)
	@echo "  CC so   $@"
	$(Q)$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

# libFuzzer (clang only): `make fuzz FUZZ_SECONDS=3600`; make check runs it briefly.
# One target per parser; `make fuzz FUZZ_TARGET=cli` runs one of them. New inputs go to
# build/fuzz/corpus/TARGET, crashes to build/fuzz/artifacts/TARGET/ (a crash that is fixed
# goes into tests/fuzz/corpus/TARGET as a regression seed).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := selector diag packet cli netns
FUZZ_TARGET ?= $(FUZZ_TARGETS)
FUZZ_CC := clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -Iinclude -Itests/unit \
	-DSOCKREAP_TASKFILES_OBJ='"$(TASKFILES_OBJ)"'
FUZZ_SRCS_selector := src/selector_lex.c src/selector_parse.c src/selector_eval.c \
	src/selector_bc.c src/sock.c src/cgroup.c
FUZZ_SRCS_packet := src/packet.c
FUZZ_SRCS_netns := src/netns.c
# The dump records go on through the output, and the command line through everything cli.c
# calls: those two take the whole library, so that a new dependency cannot break their link.
FUZZ_SRCS_diag := $(LIB_SRCS)
FUZZ_SRCS_cli := $(LIB_SRCS)
FUZZ_LIBS_diag = $(PKG_LIBS)
FUZZ_LIBS_cli = $(PKG_LIBS)
FUZZ_LDFLAGS_cli := -Wl,--wrap=cgroup_root
# The longest input each reads: a selector, a dump buffer, a captured frame, a command line,
# a mountinfo line.
FUZZ_MAXLEN_selector := 512
FUZZ_MAXLEN_diag := 4096
FUZZ_MAXLEN_packet := 256
FUZZ_MAXLEN_cli := 1024
FUZZ_MAXLEN_netns := 4096

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $$(FUZZ_SRCS_$$*) $(wildcard include/*.h) \
		tests/unit/fixtures.h $(TASKFILES_OBJ)
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
	$(Q)$(MAKE) --no-print-directory sockreap build/san/sockreap $(UNIT_BINS) $(HELPERS)
	$(Q)if command -v clang >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=build/fuzz/fuzz_%); fi
	$(Q)$(MAKE) --no-print-directory clang-check
	$(Q)tests/run.sh $(UNIT_BINS)

# -Werror under the other compiler too, when it is here (make deps installs it).
clang-check:
	$(Q)if command -v clang >/dev/null 2>&1; then \
		echo "  CLANG   -Wall -Wextra -Werror"; \
		for f in src/*.c tests/unit/*.c tests/helpers/*.c tests/fuzz/*.c; do \
			clang $(filter-out -MMD -MP,$(CFLAGS)) $(PKG_CFLAGS) -Itests/unit \
				-fsyntax-only $$f || exit 1; \
		done; \
	else echo "  CLANG   skipped: clang is not installed"; fi

deps:
	$(Q)missing=""; \
	for p in $(PKGS) cmocka; do $(PKG_CONFIG) --exists $$p 2>/dev/null || missing=1; done; \
	for t in cc clang ip ss jq setpriv nft setcap; do command -v $$t >/dev/null 2>&1 || missing=1; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then \
			echo "sockreap: build dependencies are missing; as root, run:" >&2; \
			echo "  apt-get update && apt-get install -y $(DEB_PKGS)" >&2; \
			exit 1; \
		fi; \
		echo "  DEPS    apt-get install $(DEB_PKGS)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $(DEB_PKGS) >/dev/null || exit 1; \
	fi

# Benchmarks against the anchors in the same run (root: it builds its workload in a namespace).
BENCH_BINS := build/bench/holder build/bench/measure build/bench/floor

build/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror -o $@ $<

bench: deps
	$(Q)$(MAKE) --no-print-directory sockreap $(BENCH_BINS) build/tests/churnrig
	$(Q)bench/run.sh | tee build/bench/results.md

print-deps:
	@echo $(DEB_PKGS)

demo: deps
	$(Q)$(MAKE) --no-print-directory sockreap build/tests/sockrig
	$(Q)tests/demo.sh

install: sockreap
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 sockreap $(DESTDIR)$(SBINDIR)/sockreap
	install -m 0644 man/sockreap.8 $(DESTDIR)$(MANDIR)/man8/sockreap.8
	install -m 0644 completions/sockreap.bash $(DESTDIR)$(BASHCOMPDIR)/sockreap
	install -m 0644 completions/_sockreap $(DESTDIR)$(ZSHCOMPDIR)/_sockreap
	install -m 0644 completions/sockreap.fish $(DESTDIR)$(FISHCOMPDIR)/sockreap.fish

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/sockreap $(DESTDIR)$(MANDIR)/man8/sockreap.8 \
		$(DESTDIR)$(BASHCOMPDIR)/sockreap $(DESTDIR)$(ZSHCOMPDIR)/_sockreap \
		$(DESTDIR)$(FISHCOMPDIR)/sockreap.fish

clean:
	rm -rf build sockreap

-include $(wildcard build/*/*.d)
