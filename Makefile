# berth — plain Makefile. `make help` lists the targets.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
BINDIR     ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/berth
DATADIR    ?= $(PREFIX)/share/berth
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
COMPLDIR   ?= $(PREFIX)/share/bash-completion/completions
CONFDIR    ?= /etc/containers.d

CC       ?= gcc
PKGS      = libconfuse libcap libseccomp libsystemd libnl-route-3.0 libnl-3.0 libnftables json-c libarchive libcrypto libmicrohttpd
# Asked once, when make reads this file: a target that installs packages first
# (run, check, fuzz) builds in a sub-make, which reads it again afterwards.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# berthctl links only what every verb needs: libnftables, libarchive,
# libcrypto and libsystemd are loaded with dlopen() where they are used
# (lib/dynlib.h), so run and exec do not map them and what they pull in.
# --gc-sections drops the functions of libberth it never calls (berthd's
# sd-event server in control.c); a call that remains to one of the four
# fails the link.
CTL_PKGS   = libconfuse libcap libseccomp libnl-route-3.0 libnl-3.0 json-c
CTL_LIBS   := $(shell pkg-config --libs $(CTL_PKGS) 2>/dev/null)
PKG_MISSING := $(shell pkg-config --exists $(PKGS) 2>/dev/null || echo missing)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN     = -Wall -Wextra -Wshadow -Wformat=2 -Wno-format-nonliteral -Werror
BASEFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -fPIE -g -ffunction-sections -fdata-sections -Ilib $(PKG_CFLAGS) \
	-DBERTH_DATADIR='"$(DATADIR)"' -DBERTH_SBINDIR='"$(SBINDIR)"' -DBERTH_VERSION='"$(VERSION)"'
VERSION  = 0.1.0

# Normal build: hardened. Sanitizer build (make check): ASan + UBSan.
BUILD    ?= build
ifeq ($(SANITIZE),1)
BUILD     = build-asan
CFLAGS_B  = $(BASEFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDFLAGS_B = -pie -fsanitize=address,undefined
else
CFLAGS_B  = $(BASEFLAGS) -O2 -D_FORTIFY_SOURCE=2 -fstack-protector-strong
LDFLAGS_B = -pie -Wl,-z,relro,-z,now
endif

LIB_SRC   = $(sort $(wildcard lib/*.c))
LIB_OBJ   = $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRC))
# berthctl is one program made of its verb families, sbin/berthctl-*.c.
CTL_SRC   = $(sort $(wildcard sbin/berthctl-*.c))
PROGS     = $(patsubst sbin/%.c,$(BUILD)/%,$(filter-out $(CTL_SRC),$(wildcard sbin/*.c)))
UNIT_SRC  = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
HELPER_SRC = $(sort $(wildcard tests/helpers/*.c))
HELPER_BIN = $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(HELPER_SRC))

.PHONY: all progs deps deps-run pkgs check check-unit check-integration check-vm check-fresh run \
	install uninstall clean fuzz fuzz-build bench man help
all: $(PROGS) $(UNIT_BIN) $(HELPER_BIN)

# The four programs only: what `make run` builds (no cmocka needed).
progs: $(PROGS)

help:
	@echo "targets: deps deps-run all progs check check-unit check-integration check-vm check-fresh run install uninstall clean fuzz fuzz-build bench man"

# Everything the tests need (tests/deps.sh check), or only what building and
# running the examples needs (tests/deps.sh run).
deps:
	@tests/deps.sh check

deps-run:
	@tests/deps.sh run

# Without the -dev packages every compile would fail on a missing header: say
# what to do instead, once.
pkgs:
ifneq ($(PKG_MISSING),)
	@echo "make: pkg-config does not know all of: $(PKGS)" >&2
	@echo "make: install the build packages first: make deps-run (as root), or make run / make check" >&2
	@exit 1
endif

# Each object depends on the headers it includes (-MMD writes them into
# its .d file, -MP keeps a removed header from breaking the build).
DEPFLAGS  = -MMD -MP
$(BUILD)/lib/%.o: lib/%.c | $(BUILD)/lib pkgs
	@echo "  CC      $<"; $(CC) $(CFLAGS_B) $(DEPFLAGS) -c $< -o $@

# The install paths are compiled in (templates, berth-monitor): rebuild what
# uses them when PREFIX or a directory changes between builds.
PATHS_STAMP = $(DATADIR) $(SBINDIR) $(VERSION)
$(BUILD)/.paths: FORCE | $(BUILD)/lib
	@[ "$$(cat $@ 2>/dev/null)" = "$(PATHS_STAMP)" ] || echo "$(PATHS_STAMP)" > $@
$(BUILD)/lib/template.o $(BUILD)/lib/runtime.o $(BUILD)/berthd: $(BUILD)/.paths
FORCE:

$(BUILD)/libberth.a: $(LIB_OBJ)
	@rm -f $@ && ar rcs $@ $^

# The monitor runs once per container for its whole life: static and small,
# it links only util, wire, logfmt, logjournal, console and monitor (no sanitizers: it must stay tiny).
# Several sources in one command: their headers are named here.
$(BUILD)/berth-monitor: sbin/berth-monitor.c lib/monitor.c lib/monitor_view.c lib/console.c lib/logfmt.c lib/logjournal.c \
		lib/util.c lib/wire.c lib/monitor.h lib/monitor_view.h lib/console.h lib/logfmt.h lib/logjournal.h lib/util.h \
		lib/wire.h | $(BUILD)/lib
	@echo "  LD      $@"; $(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Ilib -O2 -static $(filter %.c,$^) -o $@

# berth-init is what a container's processes become (a sealed copy of it):
# static, from its own source only, stripped; no sanitizers.
$(BUILD)/berth-init: sbin/berth-init.c | $(BUILD)/lib
	@echo "  LD      $@"; $(CC) -std=c11 -D_GNU_SOURCE $(WARN) -Ilib -O2 -static -s $(DEPFLAGS) -MF $@.d $< -o $@

$(BUILD)/berthctl: sbin/berthctl.c $(CTL_SRC) sbin/berthctl.h $(BUILD)/libberth.a
	@echo "  LD      $@"; $(CC) $(CFLAGS_B) $(filter %.c,$^) -o $@ $(LDFLAGS_B) -Wl,--gc-sections,--as-needed \
		$(BUILD)/libberth.a $(CTL_LIBS)

$(BUILD)/%: sbin/%.c $(BUILD)/libberth.a
	@echo "  LD      $@"; $(CC) $(CFLAGS_B) $(DEPFLAGS) -MF $@.d $< -o $@ $(LDFLAGS_B) $(BUILD)/libberth.a $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libberth.a | $(BUILD)/tests
	@echo "  LD      $@"; $(CC) $(CFLAGS_B) $(DEPFLAGS) -MF $@.d $< -o $@ $(LDFLAGS_B) $(BUILD)/libberth.a $(PKG_LIBS) $(CMOCKA_LIBS)

# Probe programs run inside containers: static, so they work in any rootfs.
$(BUILD)/tests/helpers/%: tests/helpers/%.c | $(BUILD)/tests/helpers
	@echo "  LD      $@"; $(CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static $< -o $@

$(BUILD)/lib $(BUILD)/tests $(BUILD)/tests/helpers:
	mkdir -p $@

# Everything the README promises: deps, a sanitizer build, every suite. The
# builds are sub-makes: they ask pkg-config after deps installed the packages.
check: deps
	$(MAKE) SANITIZE=1 all
	$(MAKE) all
	tests/run-all.sh build-asan

check-unit: all
	tests/run-all.sh $(BUILD) unit

check-integration: all
	tests/run-all.sh $(BUILD) integration

check-vm: all
	BERTH_BOOT_LANE=1 tests/vm/check-vm.sh $(BUILD)

# A fresh Debian 12 image in a chroot, without the build packages: `make run`
# there until the examples run (tests/fresh/check-fresh.sh; a few minutes).
check-fresh:
	tests/fresh/check-fresh.sh

# The build is a sub-make, for the same reason as in check.
run: deps-run
	$(MAKE) progs
	tests/make-run.sh $(BUILD)

# libFuzzer harnesses tests/fuzz/fuzz_NAME.c (clang): libberth compiled once
# with the fuzzer's coverage and ASan+UBSan into build-fuzz/, with the same
# defines as the normal build (warnings, not errors: clang warns about
# things gcc does not); tests/fuzz/run.sh runs each for FUZZ_SECONDS.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD    = build-fuzz
FUZZ_CFLAGS   = $(filter-out -fPIE -Werror,$(BASEFLAGS)) -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_OBJ      = $(patsubst lib/%.c,$(FUZZ_BUILD)/lib/%.o,$(LIB_SRC))
FUZZ_BIN      = $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(sort $(wildcard tests/fuzz/fuzz_*.c)))

fuzz: deps
	$(MAKE) fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-build: pkgs $(FUZZ_BIN)

$(FUZZ_BUILD)/lib/%.o: lib/%.c | $(FUZZ_BUILD)/lib
	@echo "  CC      $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/libberth.a: $(FUZZ_OBJ)
	@rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libberth.a
	@echo "  LD      $@"; $(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -MF $@.d -fsanitize=fuzzer $< -o $@ $(FUZZ_BUILD)/libberth.a $(PKG_LIBS)

$(FUZZ_BUILD)/lib:
	mkdir -p $@

bench: all
	bench/run.sh $(BUILD)

# Manual pages: man/*.scd rendered with scdoc into $(BUILD)/man/.
MAN_SRC   = $(sort $(wildcard man/*.scd))
MAN_OUT   = $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRC))
man: $(MAN_OUT)

$(BUILD)/man/%: man/%.scd | $(BUILD)/man
	scdoc < $< > $@.tmp && mv $@.tmp $@

$(BUILD)/man:
	mkdir -p $@

# The unit file names the installed berthd: generated for this SBINDIR.
$(BUILD)/berthd.service: units/berthd.service.in Makefile $(BUILD)/.paths
	sed 's|@SBINDIR@|$(SBINDIR)|g' $< > $@.tmp && mv $@.tmp $@

install: all man $(BUILD)/berthd.service
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(DATADIR)/templates $(DESTDIR)$(UNITDIR)
	install -m 0755 $(BUILD)/berthd $(DESTDIR)$(SBINDIR)/berthd
	install -m 0755 $(BUILD)/berthctl $(DESTDIR)$(SBINDIR)/berthctl
	install -m 0755 $(BUILD)/berth-monitor $(DESTDIR)$(SBINDIR)/berth-monitor
	install -m 0755 $(BUILD)/berth-init $(DESTDIR)$(SBINDIR)/berth-init
	install -m 0755 templates/*.sh $(DESTDIR)$(DATADIR)/templates/
	install -m 0644 $(BUILD)/berthd.service $(DESTDIR)$(UNITDIR)/berthd.service
	if [ ! -d $(DESTDIR)$(CONFDIR) ]; then \
		install -d -m 0755 $(DESTDIR)$(CONFDIR); install -m 0644 conf.d/*.conf $(DESTDIR)$(CONFDIR)/; fi
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(COMPLDIR)
	install -m 0644 $(filter %.5,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_OUT)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 completion/berthctl.bash $(DESTDIR)$(COMPLDIR)/berthctl

# Removes what install put there; never the definitions in $(CONFDIR).
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/berthd $(DESTDIR)$(SBINDIR)/berthctl $(DESTDIR)$(SBINDIR)/berth-monitor $(DESTDIR)$(SBINDIR)/berth-init
	rm -rf $(DESTDIR)$(DATADIR)
	rm -f $(DESTDIR)$(UNITDIR)/berthd.service
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(filter %.5,$(MAN_OUT))))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(filter %.8,$(MAN_OUT))))
	rm -f $(DESTDIR)$(COMPLDIR)/berthctl

clean:
	rm -rf build build-asan build-fuzz

# The header dependencies the compiler wrote (none before the first build).
-include $(wildcard $(BUILD)/lib/*.d $(BUILD)/*.d $(BUILD)/tests/*.d $(FUZZ_BUILD)/lib/*.d $(FUZZ_BUILD)/*.d)
