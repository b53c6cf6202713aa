package conformance

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/router"
)

// responseChecker validates response bodies against the spec's response
// schemas. It is built from its own copy of the spec, with the request bodies
// stripped instead of the responses, so that the request validator (which every
// simulator request waits for) stays small and never shares a model node, and
// so a lock, with it.
type responseChecker struct {
	v      validator.Validator
	router router.Router

	mu       sync.RWMutex // as Checker.mu: the first check of an operation compiles alone
	compiled sync.Map     // operation and status -> struct{}
}

// responses returns the response checker, building it on first use: it costs
// a fifth of a second and over a hundred MB (see the package doc), which a
// test that only checks requests should not pay.
func (c *Checker) responses() (*responseChecker, error) {
	c.respOnce.Do(func() {
		c.resp, c.respErr = loadResponses(c.specPath)
	})
	return c.resp, c.respErr
}

func loadResponses(specPath string) (*responseChecker, error) {
	raw, err := readSpec(specPath)
	if err != nil {
		return nil, err
	}
	spec, err := prepareResponseSpec(raw)
	if err != nil {
		return nil, fmt.Errorf("prepare openapi spec %s for responses: %w", specPath, err)
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
		config.WithoutRequestBodyValidation(),
	)
	schemas.ready.Store(true)
	return &responseChecker{v: v, router: router.NewRouter(&model.Model, router.WithPathOnlyMatching())}, nil
}

// CheckResponse validates a response to r (status, headers and body as the
// server sent them) against the response the spec documents for r's operation
// and status: its schema, and that the status is one the operation declares.
// It returns nil if the response conforms, and also for a request that matches
// no operation (Check reports those).
//
// The first call builds a second validator from the spec with the responses
// kept (about 0.2 s and 180 MB allocated, once per process; see the package
// doc); later calls share it.
func (c *Checker) CheckResponse(r *http.Request, status int, header http.Header, body []byte) error {
	rc, err := c.responses()
	if err != nil {
		return fmt.Errorf("build response validator: %w", err)
	}
	req := normalizeRequest(r.Clone(r.Context()))
	req.Body = http.NoBody
	route, err := rc.router.FindRoute(req)
	if err != nil || route == nil || route.Operation == nil {
		return nil
	}
	resp := &http.Response{
		StatusCode:    status,
		Header:        header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
	key := route.Method + " " + route.Path + " " + strconv.Itoa(status)
	var (
		ok    bool
		verrs = rc.validate(key, req, resp)
	)
	ok = len(verrs) == 0
	if ok {
		return nil
	}
	return &Error{Method: r.Method, Path: r.URL.Path, Operation: route.Method + " " + route.Path,
		Status: status, Violations: describe(verrs)}
}

func (rc *responseChecker) validate(key string, req *http.Request, resp *http.Response) []*verror {
	var (
		ok    bool
		verrs []*verror
	)
	if _, done := rc.compiled.Load(key); done {
		rc.mu.RLock()
		ok, verrs = rc.v.ValidateHttpResponse(req, resp)
		rc.mu.RUnlock()
	} else {
		rc.mu.Lock()
		ok, verrs = rc.v.ValidateHttpResponse(req, resp)
		rc.compiled.Store(key, struct{}{})
		rc.mu.Unlock()
	}
	if ok {
		return nil
	}
	return verrs
}
