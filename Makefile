# ContactHub — the two commands you need are `make run` and `make test`.
GO ?= go
PKGS ?= ./...

.PHONY: run test deps bench lint fuzz build clean

## run: start the server with demo data on its own private PostgreSQL
run:
	$(GO) run ./cmd/contacthub serve -demo

## test: every test, with the race detector, against real PostgreSQL and
## real peers (installs the missing ones from Debian's packages first)
test: deps
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## deps: PostgreSQL, sipp, baresip, swaks, chromium, Dovecot when missing
deps:
	@.ci/deps

## bench: the Go benchmarks (figures go in docs/BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## lint: gofmt and go vet must be clean
lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: run each fuzz target briefly
fuzz:
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 10s $$pkg || exit 1; \
	  done; \
	done

## build: the contacthub binary in ./bin
build:
	$(GO) build -o bin/contacthub ./cmd/contacthub

clean:
	rm -rf bin var
