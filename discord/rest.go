package discord

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/diamondburned/arikawa/v3/api"
	"github.com/diamondburned/arikawa/v3/utils/httputil"
	"github.com/diamondburned/arikawa/v3/utils/httputil/httpdriver"
)

// restTimeout bounds one REST request.
const restTimeout = 30 * time.Second

// rewriteTransport sends every request to one scheme and host (plus an
// optional path prefix) whatever URL arikawa built: arikawa's endpoints
// are fixed to discord.com at init (docs/compat/discord.md §2.3).
type rewriteTransport struct {
	scheme, host, prefix string
	next                 http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = t.scheme
	r.URL.Host = t.host
	r.Host = t.host
	if t.prefix != "" {
		r.URL.Path = t.prefix + r.URL.Path
		r.URL.RawPath = ""
	}
	return t.next.RoundTrip(r)
}

// newRESTClient returns an arikawa API client whose requests all go to
// base.
func newRESTClient(token, base string) (*api.Client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("discord: REST base: %w", err)
	}
	rt := &rewriteTransport{
		scheme: u.Scheme,
		host:   u.Host,
		prefix: strings.TrimSuffix(u.Path, "/"),
		next:   http.DefaultTransport,
	}
	hc := httputil.NewClient() // sets the unexported context and schema encoder
	hc.Client = httpdriver.WrapClient(http.Client{Transport: rt, Timeout: restTimeout})
	return api.NewCustomClient("Bot "+token, hc), nil
}
