package simtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"rollcall/discordsim"
)

// DiscordProxy lets an unmodified rollcall binary, which knows only
// https://discord.com, talk to a simulator: it is an HTTPS proxy (the
// HTTPS_PROXY that Go's HTTP client and disgo honour) that answers CONNECT
// discord.com:443 itself, with a certificate for discord.com signed by a
// certificate authority of its own (SSL_CERT_FILE), and hands the requests
// to the simulator's REST API. The gateway needs no proxy: GET /gateway
// answers the simulator's ws://127.0.0.1 URL, and Go never proxies
// loopback addresses.
type DiscordProxy struct {
	// URL is the proxy's, for HTTPS_PROXY.
	URL string
	// CAFile is the PEM file of the certificate authority, for SSL_CERT_FILE.
	CAFile string

	addr     string
	tlsConf  *tls.Config
	inner    *http.Server
	conns    chan net.Conn
	connects atomic.Int64
	closed   chan struct{}
	once     sync.Once

	mu sync.Mutex
	ln net.Listener // nil while paused
}

// Env is what a rollcall subprocess needs in its environment to reach the
// simulator through the proxy.
func (p *DiscordProxy) Env() []string {
	return []string{"HTTPS_PROXY=" + p.URL, "https_proxy=" + p.URL, "SSL_CERT_FILE=" + p.CAFile, "NO_PROXY=", "no_proxy="}
}

// Connects counts the CONNECTs to discord.com answered (each a TLS session
// the client opened through the proxy).
func (p *DiscordProxy) Connects() int64 { return p.connects.Load() }

// NewDiscordProxy starts a proxy to sim on addr ("127.0.0.1:0" for any
// port); dir receives the CA's PEM file. It is closed when t ends.
func NewDiscordProxy(t testing.TB, sim *discordsim.Server, addr, dir string) *DiscordProxy {
	t.Helper()
	caFile, leaf := certificates(t, dir)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("discord proxy: %v", err)
	}
	target, err := url.Parse(sim.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	p := &DiscordProxy{URL: "http://" + ln.Addr().String(), CAFile: caFile, addr: ln.Addr().String(), conns: make(chan net.Conn), closed: make(chan struct{}),
		tlsConf: &tls.Config{Certificates: []tls.Certificate{leaf}, NextProtos: []string{"http/1.1"}}}
	// Requests arrive as https://discord.com/api/v10/...; the simulator's
	// REST API has the same paths.
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.Out.URL.Scheme, r.Out.URL.Host = target.Scheme, target.Host
		r.Out.Host = target.Host
	}}
	p.inner = &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.inner.Serve(chanListener{p}) }()
	p.serve(ln)
	t.Cleanup(p.Close)
	return p
}

func (p *DiscordProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.connect(c, p.tlsConf)
		}
	}()
}

// Pause stops listening: connections are refused, as with no network,
// until Resume.
func (p *DiscordProxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

// Resume listens again on the same address.
func (p *DiscordProxy) Resume(t testing.TB) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("discord proxy: listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// connect reads the client's CONNECT and, for discord.com, opens TLS with
// its certificate and passes the connection to the inner server.
func (p *DiscordProxy) connect(c net.Conn, conf *tls.Config) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect || br.Buffered() > 0 {
		_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"))
		c.Close()
		return
	}
	if req.Host != "discord.com:443" {
		// Chromium, say, trying hosts of its own: only Discord is here.
		_, _ = c.Write([]byte("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n"))
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if _, err := c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		c.Close()
		return
	}
	p.connects.Add(1)
	select {
	case p.conns <- tls.Server(c, conf):
	case <-p.closed:
		c.Close()
	}
}

// Close stops the proxy.
func (p *DiscordProxy) Close() {
	p.once.Do(func() {
		close(p.closed)
		p.Pause()
		_ = p.inner.Close()
	})
}

// chanListener is the inner server's listener: the TLS connections opened
// by CONNECT.
type chanListener struct{ p *DiscordProxy }

func (l chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.p.conns:
		return c, nil
	case <-l.p.closed:
		return nil, errors.New("closed")
	}
}
func (l chanListener) Close() error   { return nil }
func (l chanListener) Addr() net.Addr { return fakeAddr(l.p.addr) }

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// certificates makes a CA (written to dir as PEM) and a discord.com
// certificate it signs.
func certificates(t testing.TB, dir string) (string, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "rollcall test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "discord.com"},
		DNSNames:  []string{"discord.com", "*.discord.com", "gateway.discord.gg"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rollcall-test-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
