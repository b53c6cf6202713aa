package apptest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy between the bot and Postgres that a test can cut and
// restore, or hang and resume, to play a database outage without touching
// the server. It also reads the frontend protocol passing through and keeps
// every statement the bot sent, so a test can count them.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
	flow  chan struct{} // closed while data flows; open (blocking) while hung
	done  chan struct{} // closed at cleanup: nothing waits any more
	stmts []string
}

// NewProxy listens on 127.0.0.1 and forwards to target (host:port).
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p := &Proxy{t: t, target: target, conns: map[net.Conn]bool{}, flow: make(chan struct{}), done: make(chan struct{})}
	close(p.flow)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.Cut()
		close(p.done)
	})
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[up] = true, true
			p.mu.Unlock()
			go p.frontend(up, c)
			go p.backend(c, up)
		}
	}()
}

// Cut closes every open connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore accepts connections again on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("restore proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// Hang makes the database stop answering without refusing anything: open
// connections stay open and new ones are accepted, but nothing passes in
// either direction until Resume. It is the outage a deadline must catch: no
// error ever arrives.
func (p *Proxy) Hang() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flow:
		p.flow = make(chan struct{})
	default: // already hung
	}
}

// Resume lets what waited pass, and new data flow again. Connections the
// bot gave up on meanwhile (it closes a connection whose query timed out)
// end as soon as their first write fails.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.flow:
	default:
		close(p.flow)
	}
}

// wait blocks while the proxy is hung; false means the test is over.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	flow := p.flow
	p.mu.Unlock()
	select {
	case <-flow:
		return true
	case <-p.done:
		return false
	}
}

// backend copies the server's answers to the bot.
func (p *Proxy) backend(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Protocol codes of the startup packets that are not the startup message.
const (
	sslRequest    = 80877103
	gssEncRequest = 80877104
)

// frontend copies the bot's messages to the server one protocol message at
// a time, noting the statements: every simple Query, and every Execute of
// the extended protocol by the SQL its portal's statement was parsed from.
func (p *Proxy) frontend(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	r := bufio.NewReaderSize(src, 64<<10)
	prepared := map[string]string{} // statement name -> SQL, per connection
	portals := map[string]string{}  // portal name -> statement name
	startup := true
	var hdr [5]byte
	for {
		var msg []byte
		if startup {
			// Startup packets have no type byte: length, then a code.
			if _, err := io.ReadFull(r, hdr[:4]); err != nil {
				return
			}
			n := int(binary.BigEndian.Uint32(hdr[:4]))
			if n < 8 || n > 1<<20 {
				return
			}
			msg = make([]byte, n)
			copy(msg, hdr[:4])
			if _, err := io.ReadFull(r, msg[4:]); err != nil {
				return
			}
			code := binary.BigEndian.Uint32(msg[4:8])
			startup = code == sslRequest || code == gssEncRequest
		} else {
			if _, err := io.ReadFull(r, hdr[:5]); err != nil {
				return
			}
			n := int(binary.BigEndian.Uint32(hdr[1:5]))
			if n < 4 || n > 1<<30 {
				return
			}
			msg = make([]byte, 1+n)
			copy(msg, hdr[:5])
			if _, err := io.ReadFull(r, msg[5:]); err != nil {
				return
			}
			p.observe(hdr[0], msg[5:], prepared, portals)
		}
		if !p.wait() {
			return
		}
		if _, err := dst.Write(msg); err != nil {
			return
		}
	}
}

// observe notes a statement from one frontend message.
func (p *Proxy) observe(typ byte, body []byte, prepared, portals map[string]string) {
	cstr := func(b []byte) (string, []byte) {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return string(b), nil
		}
		return string(b[:i]), b[i+1:]
	}
	switch typ {
	case 'Q':
		sql, _ := cstr(body)
		p.note(sql)
	case 'P':
		name, rest := cstr(body)
		sql, _ := cstr(rest)
		prepared[name] = sql
	case 'B':
		portal, rest := cstr(body)
		stmt, _ := cstr(rest)
		portals[portal] = stmt
	case 'E':
		portal, _ := cstr(body)
		p.note(prepared[portals[portal]])
	case 'C': // Close: 'S' statement or 'P' portal, then the name
		if len(body) > 0 {
			name, _ := cstr(body[1:])
			if body[0] == 'S' {
				delete(prepared, name)
			} else {
				delete(portals, name)
			}
		}
	}
}

func (p *Proxy) note(sql string) {
	p.mu.Lock()
	p.stmts = append(p.stmts, sql)
	p.mu.Unlock()
}

// Statements returns every statement sent through the proxy so far, in
// order, as its SQL text: what the bot's pool (its own queries and River's)
// asked the database to run.
func (p *Proxy) Statements() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.stmts...)
}

// ProxyDB puts a Proxy between the bot and its database; call it before
// Start. The harness's own Store() keeps connecting directly.
func (h *Harness) ProxyDB() *Proxy {
	h.t.Helper()
	u, err := url.Parse(h.DBURL)
	if err != nil {
		h.t.Fatal(err)
	}
	p := NewProxy(h.t, u.Host)
	u.Host = p.Addr()
	h.Config.DatabaseURL = secretOf(u.String())
	return p
}
