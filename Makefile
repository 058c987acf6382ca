# quotad — the two commands a fresh machine needs are in the README:
#   go run ./cmd/quotad serve      (the daemon, on ./quotad.db)
#   make test                      (the whole test suite)

GO ?= go

.PHONY: test build dist fuzz bench vet

# The version, commit and date `quotad version` prints. The date is the
# commit's (UTC), so that building one commit twice gives the same bytes.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
DATE    ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

# make build BIN=/usr/local/bin/quotad puts the binary elsewhere.
BIN ?= bin/quotad
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/quotad

# Static, stamped binaries for the platforms quotad is released for (a
# Raspberry Pi is linux/arm64), with their SHA-256 sums, in dist/.
DIST_TARGETS ?= linux/amd64 linux/arm64 darwin/arm64 windows/amd64
dist:
	rm -rf dist && mkdir -p dist
	set -e; for t in $(DIST_TARGETS); do \
		os=$${t%/*}; arch=$${t#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		echo "build $$os/$$arch"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w $(LDFLAGS)" \
			-o dist/quotad-$(VERSION)-$$os-$$arch$$ext ./cmd/quotad; \
	done
	cd dist && if command -v sha256sum >/dev/null; then sha256sum quotad-*; else shasum -a 256 quotad-*; fi > SHA256SUMS
	cat dist/SHA256SUMS

vet:
	$(GO) vet ./...

# The whole suite, with the race detector, then a short run of every fuzz
# target (an execution count, not a duration: see scripts/fuzz.sh).
test:
	$(GO) test -race -count=1 -timeout 15m ./...
	./scripts/fuzz.sh 20000x

# Longer fuzzing: make fuzz FUZZTIME=2m
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...
