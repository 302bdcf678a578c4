# connhub build.
#
#   make            build build/connhub (optimised, with debug info)
#   make run        install what is missing, build, serve on 127.0.0.1:8080 (SQLite, --dev)
#   make test       install what is missing, build with ASan+UBSan, run every test (on SQLite and
#                   on a throwaway PostgreSQL cluster that tools/with-pg starts and stops)
#   make asan       build the ASan+UBSan binary and unit tests only
#   make unit       ASan build + unit tests only (fast inner loop)
#   make valgrind   unit tests under valgrind (release build)
#   make fuzz       build libFuzzer targets with clang and run each briefly
#   make bench      the benchmarks in bench/
#   make fmt / lint
#
# Layout: every folder src/<mod>/ is a module, built into lib<mod>.a. A module
# says which modules it uses in src/<mod>/module.mk (DEPS_<mod> := core ...).
# Unit tests tests/unit/<mod>/test_*.c link only their module and its deps, so
# a half-written module elsewhere never breaks them.

# Node.js 20 from tools/node comes first when tools/install-deps put it there (the
# machine's own was older); a folder that is not there changes nothing.
export PATH := $(CURDIR)/tools/node/bin:$(PATH)

MODE    ?= release
V       ?= 0
ifeq ($(V),0)
  Q := @
  say = @printf '  %-6s %s\n' $(1) $(2)
else
  Q :=
  say = @true
endif
BUILD   ?= build
CC      ?= cc

PKGS    := libmicrohttpd libcurl openssl jansson yaml-0.1 sqlite3 libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wvla -Wwrite-strings -Wno-missing-field-initializers
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) -fno-omit-frame-pointer \
               -fstack-protector-strong -MMD -MP

ifeq ($(MODE),asan)
  OUT     := $(BUILD)/asan
  CFLAGS  += $(BASE_CFLAGS) -O1 -g -DCONNHUB_TEST -fsanitize=address,undefined \
             -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=address,undefined
else ifeq ($(MODE),test)
  OUT     := $(BUILD)/test
  CFLAGS  += $(BASE_CFLAGS) -O1 -g -DCONNHUB_TEST
else
  OUT     := $(BUILD)
  CFLAGS  += $(BASE_CFLAGS) -O2 -g -D_FORTIFY_SOURCE=2
endif
LDLIBS  += $(PKG_LIBS) -lpthread -lm

# The release server runs on mimalloc (Debian's libmimalloc): about 0.86x the CPU per action call
# of glibc's malloc (bench/README.md). Unit-test, ASan and valgrind builds keep the system malloc,
# which the sanitizers and memcheck replace or watch. `make MALLOC=system` leaves it out.
# --no-as-needed: connhub names no mimalloc symbol; linking it is what replaces malloc.
MALLOC  ?= mimalloc
ifeq ($(MODE)-$(MALLOC),release-mimalloc)
  BIN_ALLOC := -Wl,--push-state,--no-as-needed -lmimalloc -Wl,--pop-state
endif

# EXCLUDE="mod ..." leaves modules out (e.g. one that is mid-edit in a shared tree).
MODULES := $(filter-out $(EXCLUDE),$(patsubst src/%/,%,$(sort $(dir $(wildcard src/*/*.c)))))
-include $(wildcard src/*/module.mk)

objs_of = $(patsubst src/%.c,$(OUT)/obj/%.o,$(wildcard src/$(1)/*.c))
lib_of  = $(OUT)/lib/lib$(1).a
# A module's archive list: itself, then its deps (deps declared transitively).
libs_for = $(foreach m,$(1) $(DEPS_$(1)),$(call lib_of,$(m)))

ALL_LIBS := $(foreach m,$(MODULES),$(call lib_of,$(m)))
BIN     := $(OUT)/connhub

UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUT)/tests/unit/%,$(UNIT_SRCS))

.PHONY: all run test asan unit valgrind fuzz bench fmt lint deps clean tests-bins
.DEFAULT_GOAL := all

all: $(BIN)

$(OUT)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

define MODULE_RULE
$(call lib_of,$(1)): $(call objs_of,$(1))
	@mkdir -p $$(dir $$@)
	$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call MODULE_RULE,$(m))))

# Relinks when MALLOC changes: the stamp is rewritten only when its content differs.
$(OUT)/malloc.stamp: FORCE
	@mkdir -p $(OUT); echo '$(MALLOC)' | cmp -s - $@ || echo '$(MALLOC)' >$@
FORCE:

$(BIN): $(OUT)/obj/main.o $(ALL_LIBS) $(OUT)/malloc.stamp
	$(call say,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OUT)/obj/main.o $(BIN_ALLOC) -Wl,--start-group $(ALL_LIBS) \
	  -Wl,--end-group $(LDLIBS)

# The web UI (web/*) is built into the binary: tools/embed-web.c writes the files out as C arrays
# into $(OUT)/gen/web_files.h, which src/web/web.c includes.
WEB_FILES := $(sort $(wildcard web/*))
$(OUT)/gen/embed-web: tools/embed-web.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) -O1 -o $@ $<
$(OUT)/gen/web_files.h: $(OUT)/gen/embed-web $(WEB_FILES)
	$(call say,GEN,$@)
	$(Q)$(OUT)/gen/embed-web $(WEB_FILES) > $@.tmp && mv $@.tmp $@
$(OUT)/obj/web/web.o: $(OUT)/gen/web_files.h
$(OUT)/obj/web/web.o: CFLAGS += -I$(OUT)/gen

# tests/support/*.c: helpers shared by unit tests (a loopback HTTP upstream, temp dirs...).
SUPPORT_OBJS := $(patsubst tests/support/%.c,$(OUT)/obj/tests-support/%.o,$(wildcard tests/support/*.c))
SUPPORT_LIB  := $(OUT)/lib/libtestsupport.a
$(OUT)/obj/tests-support/%.o: tests/support/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@
$(SUPPORT_LIB): $(SUPPORT_OBJS) $(wildcard tests/support/*.h)
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $(SUPPORT_OBJS) && ranlib $@

# tests/unit/<mod>/test_x.c -> $(OUT)/tests/unit/<mod>/test_x, linked with lib<mod> and its deps
define UNIT_RULE
$(OUT)/tests/unit/$(1)/%: tests/unit/$(1)/%.c $(call libs_for,$(1)) $(SUPPORT_LIB)
	@mkdir -p $$(dir $$@)
	$(call say,TEST,$$<)
	$(Q)$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $$@ $$< -Wl,--start-group $(call libs_for,$(1)) \
	  $(SUPPORT_LIB) -Wl,--end-group $(LDLIBS) -lcmocka
endef
$(foreach m,$(patsubst tests/unit/%/,%,$(sort $(dir $(UNIT_SRCS)))),$(eval $(call UNIT_RULE,$(m))))

# Fuzz targets: tests/fuzz/<mod>/fuzz_<name>.c (LLVMFuzzerTestOneInput), seeds in
# tests/fuzz/<mod>/corpus_<name>/. Here they are built as plain programs that replay
# their corpus (run by run-tests); tools/run-fuzz builds them with libFuzzer.
FUZZ_SRCS := $(wildcard tests/fuzz/*/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUT)/tests/fuzz/%,$(FUZZ_SRCS))
define FUZZ_RULE
$(OUT)/tests/fuzz/$(1)/%: tests/fuzz/$(1)/%.c tests/fuzz/replay_main.c $(call libs_for,$(1))
	@mkdir -p $$(dir $$@)
	$(call say,FUZZ,$$<)
	$(Q)$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $$@ $$< tests/fuzz/replay_main.c -Wl,--start-group \
	  $(call libs_for,$(1)) -Wl,--end-group $(LDLIBS)
endef
$(foreach m,$(patsubst tests/fuzz/%/,%,$(sort $(dir $(FUZZ_SRCS)))),$(eval $(call FUZZ_RULE,$(m))))

tests-bins: $(BIN) $(UNIT_BINS) $(FUZZ_BINS)

deps:
	@tools/install-deps

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p data
	$(BIN) serve --dev --listen 127.0.0.1:8080 --db sqlite:./data/connhub.db

# The one test command (README, .ci/run): installs, builds with ASan+UBSan, runs everything.
test: deps
	@$(MAKE) --no-print-directory MODE=asan tests-bins
	@$(MAKE) --no-print-directory MODE=release all
	@tools/with-pg tools/run-tests --build $(BUILD)/asan --release-bin $(BUILD)/connhub

asan:
	@$(MAKE) --no-print-directory MODE=asan tests-bins

unit: asan
	@tools/with-pg tools/run-tests --build $(BUILD)/asan --unit-only

valgrind:
	@$(MAKE) --no-print-directory MODE=test tests-bins
	@tools/run-tests --build $(BUILD)/test --unit-only --valgrind

fuzz:
	@tools/run-fuzz

bench: deps
	@$(MAKE) --no-print-directory MODE=release all
	@bench/run
	@node bench/openapi.mjs
	@node bench/mcp.mjs

fmt:
	clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h' 'bench/*.c')

lint:
	clang-format --dry-run --Werror $$(git ls-files 'src/*.c' 'src/*.h')
	tools/lint-leaks --self-test && tools/lint-leaks $$(git ls-files 'src/*.c' 'src/*.h')
	cppcheck --enable=warning,portability,performance --error-exitcode=1 --inline-suppr \
	  --suppress=missingIncludeSystem -q -Isrc src
	git ls-files 'src/*.c' | xargs -P2 -I{} clang-tidy -quiet {} -- -std=c11 -D_GNU_SOURCE -Isrc \
	  $(PKG_CFLAGS) 2>&1 | grep -E '(warning|error):' ; test $$? -eq 1

clean:
	rm -rf $(BUILD)

-include $(shell find $(OUT)/obj $(OUT)/tests -name '*.d' 2>/dev/null)
