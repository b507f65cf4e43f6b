package doctor

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkNATS checks that NATS answers when one is configured: a NATS
// server greets every new connection with an INFO line. Halyard has no
// NATS_URL setting yet (the cluster is a later issue), so today this
// reports "not configured"; the cluster sets Config.NATSURL (and may
// replace the greeting check by its client's own connect).
func checkNATS(ctx context.Context, cfg Config) Finding {
	f := Finding{Check: "nats"}
	if cfg.NATSURL == "" {
		f.Status, f.Message = Skip, "not configured: this node runs alone (Halyard has no NATS_URL setting until the cluster lands)"
		return f
	}
	for _, raw := range strings.Split(cfg.NATSURL, ",") {
		if err := natsGreets(ctx, strings.TrimSpace(raw), cfg.ProbeTimeout); err != nil {
			f.Status, f.Message = Fail, "NATS does not answer: "+err.Error()
			f.Fix = "start the NATS server(s), or correct NATS_URL; check the firewall (client port 4222)"
			return f
		}
	}
	f.Status, f.Message = Pass, "NATS answers at "+cfg.NATSURL
	return f
}

// natsGreets dials a nats:// URL and reads the server's INFO greeting.
func natsGreets(ctx context.Context, raw string, timeout time.Duration) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a nats://host:port URL", raw)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "4222")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	_ = c.SetReadDeadline(deadline)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("%s: no greeting: %v", host, err)
	}
	if !strings.HasPrefix(line, "INFO ") {
		return fmt.Errorf("%s is not a NATS server (it said %.40q)", host, line)
	}
	return nil
}

// checkExternalURL asks EXTERNAL_URL/healthz. Nothing answering is a
// warning, not a failure: doctor is often run before Halyard is started.
func checkExternalURL(ctx context.Context, cfg Config) Finding {
	f := Finding{Check: "external_url"}
	target := cfg.ExternalURL + "/healthz"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		f.Status, f.Message = Fail, fmt.Sprintf("EXTERNAL_URL %q is not a URL: %v", cfg.ExternalURL, err)
		f.Fix = "set EXTERNAL_URL to the public base URL users reach Halyard at, e.g. https://presence.example.com"
		return f
	}
	resp, err := probeClient(cfg.ProbeTimeout).Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			f.Status, f.Message = Pass, "Halyard answers at "+target
			return f
		}
		err = fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	f.Status, f.Message = Warn, fmt.Sprintf("nothing healthy answers at %s (%v); fine while no node runs", target, err)
	f.Fix = "start Halyard; if it runs, set EXTERNAL_URL to the URL users reach it at (your reverse proxy's), which bot replies print"
	return f
}
