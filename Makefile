# Plain targets, each a thin call of the real command. `make help` lists them.
CONFIG ?= config.toml
ECHARTS := render/assets/echarts.min.js

.PHONY: help build run demo test bench assets lint

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: assets ## build ./rollcall with ECharts embedded
	go build -o rollcall .

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
