// Package conformance checks HTTP requests against Discord's published OpenAPI
// description of its HTTP API, so that the simulator can fail a test when the bot
// (through disgo) sends something real Discord would reject or misread.
//
// The spec is not part of this repository: it is read from the path in
// DISCORD_OPENAPI_SPEC (.ci/run sets it to ../shared/discord-api/openapi.json), and
// tests skip the check when that variable is unset.
//
// Only requests are validated. Before building the validator, Load deletes the
// `responses` of every operation from an in-memory copy of the spec, which cuts the
// build from about 4.2 s to about 1 s, and patches the spec where it disagrees with
// what Discord accepts and disgo sends (see patchSpec).
//
// Measured on the 2-core CI machine (go test -bench . with the spec, libopenapi
// v0.41.8, libopenapi-validator v0.16.2):
//
//	Load                                     ~1.0-1.4 s, ~100 MiB allocated (once per process via FromEnv)
//	Check, valid JSON message                ~70 µs
//	Check, valid bulk command overwrite      ~160 µs
//	Check, valid multipart message           ~80 µs
//	Check, rejected message                  ~2 ms
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
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/content"
	verrors "github.com/pb33f/libopenapi-validator/errors"
)

// EnvSpec names the environment variable holding the path of Discord's OpenAPI spec.
const EnvSpec = "DISCORD_OPENAPI_SPEC"

// Checker validates HTTP requests against Discord's published OpenAPI spec.
// It is safe for concurrent use.
type Checker struct {
	v validator.Validator
}

// Load reads the OpenAPI spec at specPath, strips the responses, applies the
// known quirk patches and builds a validator. Building takes about a second, so
// tests should share one Checker (see FromEnv).
func Load(specPath string) (*Checker, error) {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("read openapi spec: %w", err)
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
	v := validator.NewValidatorFromV3Model(&model.Model,
		// Discord sends files as multipart/form-data whose JSON lives in one
		// payload_json part; without this the validator would only see a string.
		config.WithBodyDecoder("multipart/form-data", content.DecoderFunc(decodeMultipart)),
		config.WithoutResponseBodyValidation(),
		config.WithoutResponseStatusValidation(),
	)
	return &Checker{v: v}, nil
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
func FromEnv() (*Checker, error) {
	path := os.Getenv(EnvSpec)
	if path == "" {
		return nil, nil
	}
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

// Check validates r, whose body is given separately as body (r.Body is neither
// read nor replaced, so a server can call Check after it has read the body). It
// returns nil if the request conforms, or an error that lists every violation.
func (c *Checker) Check(r *http.Request, body []byte) error {
	// Clone so the validator reads its own copy of the body and never touches the
	// caller's request (the clone shares nothing mutable with r but the context).
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }

	ok, verrs := c.v.ValidateHttpRequestSync(req)
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

// Error is returned by Check for a request that does not conform.
type Error struct {
	Method     string
	Path       string   // the request path as sent, e.g. /api/v10/channels/1/messages
	Operation  string   // the spec operation it matched, e.g. POST /channels/{channel_id}/messages; "" if none
	Violations []string // one line per violation
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s does not conform to Discord's OpenAPI spec", e.Method, e.Path)
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
