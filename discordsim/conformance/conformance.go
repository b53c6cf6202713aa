// Package conformance checks HTTP requests against Discord's published OpenAPI
// description of its HTTP API, so that the simulator can fail a test when the bot
// (through disgo) sends something real Discord would reject or misread.
//
// The spec is not part of this repository: it is read from the path in
// DISCORD_OPENAPI_SPEC (.ci/run sets it to ../shared/discord-api/openapi.json), and
// tests skip the check when that variable is unset.
//
// Requests are validated by Check. Load deletes the `responses` of every operation
// from an in-memory copy of the spec, patches the spec where it disagrees with
// what Discord accepts and disgo sends (see patchSpec), and builds the validator
// without compiling every operation's schema up front (see lazyCache): each
// operation's request schema is compiled on its first Check and cached, except
// the interaction callback's, which Load compiles (see hotOperations).
//
// Measured with go test -bench on the 2-core machine while other builds ran
// (load average 6-8; libopenapi v0.41.8, libopenapi-validator v0.16.2):
//
//	Load                                    0.75-0.9 s, 180 MB allocated
//	  of which compiling the callback schema  0.6 s (without it: 0.15-0.3 s, 42 MB)
//	  (compiling all schemas, the validator's default: 2.5 s, 890 MB)
//	first Check of another operation        50-250 ms (compiles its schema)
//	Check, valid JSON message               70-110 µs
//	Check, valid multipart message          80-190 µs
//	Check, deferred interaction callback    150-180 µs
//	Check, bulk overwrite of 2 commands     0.9-2.2 ms
//	Check, rejected request                 10-18 ms
//
// Responses are validated by CheckResponse, with a second validator built on
// its first call from another copy of the spec, with the request bodies deleted
// instead of the responses (see responses.go). Built lazily like the request
// validator, it costs 0.2 s and 180 MB allocated (125 MB kept) once per
// process, measured on the 2-core machine; the first check of an operation and
// status then compiles its schema (~15 ms for a channel, more for a message),
// later ones take 20-200 µs. The simulator calls it for each of its answers
// (discordsim.Options.CheckResponse; simtest.Start sets it), so that an answer
// no Discord would give fails the test that received it. (Compiling every
// response schema up front instead, the validator's default, is what the field
// notes measured at ~4 s and 200 MB.)
//
// Both strip "%40" to "@" in paths first: some libraries percent-encode
// /users/@me and .../messages/@original, and Discord routes both spellings alike.
//
// Not caught: misspelt or unknown fields (the validator's strict mode would catch
// them but costs 20-90 ms a request) and cross-field rules such as "content or
// embeds or files", which the spec does not express.
package conformance

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/cache"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/router"
)

// EnvSpec names the environment variable holding the path of Discord's OpenAPI spec.
const EnvSpec = "DISCORD_OPENAPI_SPEC"

// Checker validates HTTP requests against Discord's published OpenAPI spec.
// It is safe for concurrent use.
type Checker struct {
	v      validator.Validator
	router router.Router // finds the operation of a request, for compiled

	// Compiling a schema renders shared libopenapi model nodes, which races
	// with any other compile or validation (seen with -race, libopenapi
	// v0.41.8). So the first Check of an operation runs alone (mu held for
	// writing); once its schemas are cached, Checks of it run in parallel.
	mu       sync.RWMutex
	compiled sync.Map // operationKey -> struct{}

	// The response validator, built on the first CheckResponse (see responses).
	specPath string
	respOnce sync.Once
	resp     *responseChecker
	respErr  error
}

// verror is one violation reported by the validator.
type verror = verrors.ValidationError

// Load reads the OpenAPI spec at specPath, strips the responses, applies the
// known quirk patches and builds a validator. Building takes about a second, so
// tests should share one Checker (see FromEnv).
func Load(specPath string) (*Checker, error) {
	raw, err := readSpec(specPath)
	if err != nil {
		return nil, err
	}
	spec, err := prepareSpec(raw)
	if err != nil {
		return nil, fmt.Errorf("prepare openapi spec %s: %w", specPath, err)
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("parse openapi spec %s: %w", specPath, err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("build openapi model %s: %w", specPath, err)
	}
	schemas := &lazyCache{}
	v := validator.NewValidatorFromV3Model(&model.Model,
		config.WithSchemaCache(schemas),
		// Discord sends files as multipart/form-data whose JSON lives in one
		// payload_json part; without this the validator would only see a string.
		config.WithBodyDecoder("multipart/form-data", content.DecoderFunc(decodeMultipart)),
		config.WithoutResponseBodyValidation(),
		config.WithoutResponseStatusValidation(),
	)
	schemas.ready.Store(true)
	c := &Checker{v: v, router: router.NewRouter(&model.Model, router.WithPathOnlyMatching()), specPath: specPath}
	c.warm()
	return c, nil
}

func readSpec(specPath string) ([]byte, error) {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("read openapi spec: %w", err)
	}
	return raw, nil
}

// hotOperations are the requests with a deadline, as method, path and content
// type: an interaction callback must reach Discord within 3 s. Load compiles
// their schemas (the callback's is a union of seven, ~0.3-0.5 s on a busy CI
// machine) so that the first interaction of a test is not acknowledged late
// because its callback waited for a compile. Later requests (editing the
// response, follow-ups) have 15 minutes and compile on first use.
var hotOperations = [][3]string{
	{http.MethodPost, "/api/v10/interactions/1/t/callback", "application/json"},
}

// warm checks an empty object against each of hotOperations: valid or not, the
// schema gets compiled and cached.
func (c *Checker) warm() {
	const boundary = "warm"
	multipartBody := []byte("--" + boundary + "\r\n" +
		"Content-Disposition: form-data; name=\"payload_json\"\r\n\r\n{}\r\n--" + boundary + "--\r\n")
	for _, op := range hotOperations {
		body := []byte("{}")
		contentType := op[2]
		if contentType == "multipart/form-data" {
			body = multipartBody
			contentType += "; boundary=" + boundary
		}
		r, err := http.NewRequest(op[0], op[1], bytes.NewReader(body))
		if err != nil {
			continue
		}
		r.Header.Set("Content-Type", contentType)
		_ = c.Check(r, body)
	}
}

// lazyCache is the validator's compiled-schema cache. While the validator is
// being built it claims to hold every schema, so that the validator skips
// compiling the request schema of each of Discord's ~230 operations up front
// (about 2 s of CPU, most of Load); instead each schema is compiled on the first
// request that needs it (a few ms to ~50 ms) and cached from then on. Should a
// later validator stop consulting the cache before warming, it simply warms
// everything again: slower, still correct.
type lazyCache struct {
	ready atomic.Bool
	m     sync.Map // uint64 -> *cache.SchemaCacheEntry
}

func (c *lazyCache) Load(key uint64) (*cache.SchemaCacheEntry, bool) {
	if !c.ready.Load() {
		// Warming only checks presence; the validators treat a nil entry as a miss.
		return nil, true
	}
	v, ok := c.m.Load(key)
	if !ok {
		return nil, false
	}
	return v.(*cache.SchemaCacheEntry), true
}

func (c *lazyCache) Store(key uint64, value *cache.SchemaCacheEntry) {
	if value != nil {
		c.m.Store(key, value)
	}
}

func (c *lazyCache) Range(f func(key uint64, value *cache.SchemaCacheEntry) bool) {
	c.m.Range(func(k, v any) bool { return f(k.(uint64), v.(*cache.SchemaCacheEntry)) })
}

var (
	envMu       sync.Mutex
	envCheckers = map[string]*lazyChecker{}
)

type lazyChecker struct {
	once sync.Once
	c    *Checker
	err  error
}

// FromEnv returns the Checker for the spec named by DISCORD_OPENAPI_SPEC, or
// (nil, nil) when the variable is unset. The Checker is built once per path and
// process and shared, because building it costs about a second.
//
// A relative path that does not exist from the working directory is taken
// relative to the module root: go test runs each package in its own directory,
// while the variable is set (by .ci/run, the Makefile) at the root.
func FromEnv() (*Checker, error) {
	path := os.Getenv(EnvSpec)
	if path == "" {
		return nil, nil
	}
	path = resolveSpecPath(path)
	envMu.Lock()
	lc, ok := envCheckers[path]
	if !ok {
		lc = &lazyChecker{}
		envCheckers[path] = lc
	}
	envMu.Unlock()
	lc.once.Do(func() {
		lc.c, lc.err = Load(path)
		if lc.err != nil {
			lc.err = fmt.Errorf("%s=%s: %w", EnvSpec, path, lc.err)
		}
	})
	return lc.c, lc.err
}

func resolveSpecPath(path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	if _, err := os.Stat(path); err == nil {
		return path
	}
	dir, err := os.Getwd()
	if err != nil {
		return path
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, path)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return path
		}
		dir = parent
	}
}

// Check validates r, whose body is given separately as body (r.Body is neither
// read nor replaced, so a server can call Check after it has read the body). It
// returns nil if the request conforms, or an error that lists every violation.
func (c *Checker) Check(r *http.Request, body []byte) error {
	// Clone so the validator reads its own copy of the body and never touches the
	// caller's request (the clone shares nothing mutable with r but the context).
	req := normalizeRequest(r.Clone(r.Context()))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }

	var (
		ok    bool
		verrs []*verrors.ValidationError
	)
	key := c.operationKey(req)
	if _, done := c.compiled.Load(key); done {
		c.mu.RLock()
		ok, verrs = c.v.ValidateHttpRequestSync(req)
		c.mu.RUnlock()
	} else {
		c.mu.Lock()
		ok, verrs = c.v.ValidateHttpRequestSync(req)
		c.compiled.Store(key, struct{}{})
		c.mu.Unlock()
	}
	if ok && len(verrs) == 0 {
		return nil
	}
	e := &Error{Method: r.Method, Path: r.URL.Path, Violations: describe(verrs)}
	for _, ve := range verrs {
		if ve.SpecPath != "" {
			e.Operation = ve.RequestMethod + " " + ve.SpecPath
			break
		}
	}
	return e
}

// normalizeRequest undoes the percent-encoding of "@" in the path of req (a
// clone), which some libraries send (/users/%40me, .../messages/%40original).
// Discord routes both spellings alike, but the validator matches the escaped
// path, where %40me would be taken for a user id and fail its snowflake pattern.
func normalizeRequest(req *http.Request) *http.Request {
	if raw := req.URL.RawPath; raw != "" {
		req.URL.RawPath = strings.ReplaceAll(raw, "%40", "@")
	}
	return req
}

// operationKey names the compiled schemas a request is checked against: its
// operation and media type. Requests matching no operation compile nothing and
// share the key "".
func (c *Checker) operationKey(r *http.Request) string {
	route, err := c.router.FindRoute(r)
	if err != nil || route == nil || route.Operation == nil {
		return ""
	}
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return route.Method + " " + route.Path + " " + mediaType
}

// Error is returned by Check for a request, and by CheckResponse for a
// response, that does not conform.
type Error struct {
	Method     string
	Path       string   // the request path as sent, e.g. /api/v10/channels/1/messages
	Operation  string   // the spec operation it matched, e.g. POST /channels/{channel_id}/messages; "" if none
	Status     int      // the response's status; 0 for a request
	Violations []string // one line per violation
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Status != 0 {
		fmt.Fprintf(&b, "response %d to %s %s does not conform to Discord's OpenAPI spec", e.Status, e.Method, e.Path)
	} else {
		fmt.Fprintf(&b, "%s %s does not conform to Discord's OpenAPI spec", e.Method, e.Path)
	}
	if e.Operation != "" {
		fmt.Fprintf(&b, " (%s)", e.Operation)
	}
	b.WriteString(":")
	for _, v := range e.Violations {
		b.WriteString("\n  - ")
		b.WriteString(v)
	}
	return b.String()
}

// describe turns the validator's errors into one readable line per violation,
// naming the spec operation and the offending field. Identical lines are merged,
// and so are the "value must be N" lines that a oneOf of typed variants (command
// options, interaction callbacks) produces for each variant that did not match,
// so that the line saying what is actually wrong is not buried.
func describe(verrs []*verrors.ValidationError) []string {
	var out []string
	seen := map[string]bool{}
	add := func(line string) {
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	mustBe := map[string][]string{} // field -> allowed values, from oneOf variants
	var mustBeOrder []string
	for _, ve := range verrs {
		if len(ve.SchemaValidationErrors) == 0 {
			line := ve.Message
			if ve.Reason != "" && ve.Reason != ve.Message {
				line += ": " + ve.Reason
			}
			add(line)
			continue
		}
		for _, f := range ve.SchemaValidationErrors {
			field := f.FieldPath
			if field == "" {
				field = "$"
			}
			if v, ok := strings.CutPrefix(f.Reason, "value must be "); ok {
				key := "body " + field
				if _, ok := mustBe[key]; !ok {
					mustBeOrder = append(mustBeOrder, key)
				}
				mustBe[key] = append(mustBe[key], strings.Split(strings.TrimPrefix(v, "one of "), ", ")...)
				continue
			}
			add(fmt.Sprintf("body %s: %s", field, f.Reason))
		}
	}
	for _, key := range mustBeOrder {
		vals := mustBe[key]
		if len(vals) == 1 {
			add(key + ": value must be " + vals[0])
			continue
		}
		// Variants are numbered types: sort 2 before 10.
		slices.SortFunc(vals, func(a, b string) int {
			return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
		})
		add(key + ": value must be one of " + strings.Join(slices.Compact(vals), ", ") + " (one per variant of a oneOf)")
	}
	if len(out) == 0 {
		out = append(out, "rejected without a reason")
	}
	return out
}

// filePart matches the names of the file parts of a Discord multipart body.
var filePart = regexp.MustCompile(`^files\[\d+\]$`)

// decodeMultipart decodes a Discord multipart/form-data body into the JSON object
// it stands for: the payload_json part is unpacked into the body object and the
// files[n] parts are dropped, so the JSON is validated against the schema (which
// is the JSON body schema plus optional files[n] strings).
func decodeMultipart(in *content.DecodeInput) (any, error) {
	boundary := in.Parameters["boundary"]
	if boundary == "" {
		return nil, errors.New("multipart body without a boundary parameter")
	}
	mr := multipart.NewReader(in.Body, boundary)
	obj := map[string]any{}
	var payload map[string]any
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read multipart body: %w", err)
		}
		name := part.FormName()
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("read multipart part %q: %w", name, err)
		}
		switch {
		case name == "payload_json":
			if err := json.Unmarshal(data, &payload); err != nil {
				return nil, fmt.Errorf("payload_json is not a JSON object: %w", err)
			}
		case filePart.MatchString(name):
			// The file content itself has no schema worth checking.
		default:
			// Discord also accepts plain form fields instead of payload_json.
			obj[name] = string(data)
		}
	}
	for k, v := range payload {
		obj[k] = v
	}
	return obj, nil
}
