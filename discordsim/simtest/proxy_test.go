package simtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"rollcall/discordsim"
)

// A client that trusts only the proxy's CA and knows only discord.com
// reaches the simulator through it; paused, the proxy refuses.
func TestDiscordProxy(t *testing.T) {
	sim := Start(t, discordsim.Options{})
	p := NewDiscordProxy(t, sim, "127.0.0.1:0", t.TempDir())
	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("the CA file holds no certificate")
	}
	proxyURL, _ := url.Parse(p.URL)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: roots}}}
	get := func() (string, error) {
		resp, err := c.Get("https://discord.com/api/v10/gateway")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var body struct{ URL string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		return body.URL, err
	}
	if got, err := get(); err != nil || got != sim.GatewayURL() {
		t.Fatalf("GET /gateway through the proxy = %q, %v; want %q", got, err, sim.GatewayURL())
	}
	if p.Connects() != 1 {
		t.Errorf("%d CONNECTs", p.Connects())
	}
	p.Pause()
	c.CloseIdleConnections()
	if _, err := get(); err == nil {
		t.Fatal("a paused proxy answered")
	}
	p.Resume(t)
	if got, err := get(); err != nil || got != sim.GatewayURL() {
		t.Fatalf("after Resume: %q, %v", got, err)
	}
}
