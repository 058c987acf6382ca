# quotad — the two commands a fresh machine needs are in the README:
#   go run ./cmd/quotad serve      (the daemon, on ./quotad.db)
#   make test                      (the whole test suite)

GO ?= go

.PHONY: test build fuzz bench vet

build:
	$(GO) build -o bin/quotad ./cmd/quotad

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
