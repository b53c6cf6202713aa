# Plain targets, each a thin call of the real command. `make help` lists them.
CONFIG ?= config.toml
ECHARTS := render/assets/echarts.min.js
DIST ?= dist
MAINTAINER ?= rollcall <root@localhost>

# What the binary says it is (rollcall version, the first log line); each is
# computed once, and may be given on the command line (make deb VERSION=1.2.0).
ifeq ($(origin VERSION),undefined)
VERSION := $(shell sh packaging/version.sh)
endif
ifeq ($(origin COMMIT),undefined)
COMMIT := $(shell git rev-parse HEAD 2>/dev/null)
endif
ifeq ($(origin BUILD_DATE),undefined)
BUILD_DATE := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
endif
LDFLAGS := -X rollcall/version.Version=$(VERSION) -X rollcall/version.Commit=$(COMMIT) -X rollcall/version.Date=$(BUILD_DATE)

.PHONY: help build run demo test bench assets lint deb

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: assets ## build ./rollcall with ECharts embedded and its version stamped
	go build -ldflags '$(LDFLAGS)' -o rollcall .

deb: assets ## build $(DIST)/rollcall_<version>_<arch>.deb: the binary, the systemd unit, /etc/rollcall
	mkdir -p $(DIST)/deb-root
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o $(DIST)/deb-root/rollcall .
	VERSION='$(VERSION)' ARCH=$$(go env GOARCH) BINARY='$(DIST)/deb-root/rollcall' MAINTAINER='$(MAINTAINER)' \
		go tool nfpm package --config packaging/nfpm.yaml --packager deb --target '$(DIST)/'

run: build ## run the bot with $(CONFIG)
	./rollcall run --config $(CONFIG)

demo: ## try it: a simulated server, the real bot on a fast clock, a feed page in ./demo-out
	bash scripts/deps.sh --packages-only
	$(MAKE) --no-print-directory build
	./rollcall demo --out demo-out

test: ## install/start PostgreSQL and Chromium if missing, then go test -race ./...
	bash scripts/test.sh

bench: assets ## measure against the original design and the limits (PostgreSQL, Chromium, the simulator); writes bench/results.{md,json}
	go run ./bench -out bench

assets: $(ECHARTS) ## install the pinned ECharts with npm and copy it where the binary embeds it

$(ECHARTS): render/web/package.json render/web/package-lock.json
	@command -v npm >/dev/null || { echo "make assets needs npm: apt-get install npm, or run: bash scripts/deps.sh --packages-only"; exit 1; }
	npm ci --prefix render/web --no-audit --no-fund
	cp render/web/node_modules/echarts/dist/echarts.min.js $(ECHARTS)

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet ./...
