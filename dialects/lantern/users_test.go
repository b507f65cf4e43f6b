package lantern

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

const (
	idA = "111111111111111111"
	idB = "222222222222222222"
	idC = "333333333333333333"
	idU = "999999999999999999" // never monitored
)

// errorsBody and errorBody are Lantern's two error shapes (docs/compat/lantern.md §1.4).
func errorsBody(msg string) string { return `{"errors":` + string(appendString(nil, msg)) + `}` }
func errorBody(msg string) string  { return `{"error":` + string(appendString(nil, msg)) + `}` }

const resourceNotFound = `{"error":"Resource not found."}`

// idsQuery builds ?user_ids=…&user_ids=… from ids.
func idsQuery(ids ...string) string {
	v := make([]string, len(ids))
	for i, id := range ids {
		v[i] = "user_ids=" + url.QueryEscape(id)
	}
	return "?" + strings.Join(v, "&")
}

// fakeIDs returns n distinct 18-digit ids, none monitored.
func fakeIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("5%017d", i)
	}
	return out
}

// userIDs returns the metadata.id of each user of a bulk answer.
func userIDs(t testing.TB, body []byte) []string {
	t.Helper()
	var users []struct {
		Metadata struct {
			ID string `json:"id"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &users); err != nil {
		t.Fatalf("not an array of users: %s", body)
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.Metadata.ID
	}
	return ids
}

// TestBulk covers docs/compat/lantern.md §2.3.
func TestBulk(t *testing.T) {
	s := newTestServer(t, nil)
	for _, id := range []string{idA, idB, idC} {
		s.simpleMember(id)
	}
	fifty := append(fakeIDs(49), idB)
	tests := []struct {
		name, query string
		status      int
		body        string   // exact body, or "" to check ids
		ids         []string // the users answered, in order
	}{
		{"12 no user_ids", "", 400, errorsBody("user_ids is required."), nil},
		{"12 other parameter", "?ids=" + idA, 400, errorsBody("user_ids is required."), nil},
		{"13 one id", "?user_ids=" + idA, 200, "", []string{idA}},
		{"13 brackets", "?user_ids[]=" + idA + "&user_ids[]=" + idB, 200, "", []string{idA, idB}},
		{"14 comma is one id", "?user_ids=" + idA + "," + idB, 400, errorsBody("user_ids must be an array of strings with 17-19 characters long."), nil},
		{"15 16 chars", idsQuery(idA, strings.Repeat("1", 16)), 400, errorsBody("user_ids must be an array of strings with 17-19 characters long."), nil},
		{"15 20 chars", idsQuery(strings.Repeat("1", 20), idA), 400, errorsBody("user_ids must be an array of strings with 17-19 characters long."), nil},
		{"15 not numeric passes", idsQuery("abcdefghijklmnopq", idA), 200, "", []string{idA}},
		{"16 duplicates", idsQuery(idA, idB, idA), 400, errorsBody("user_ids must not contain duplicates."), nil},
		{"16 length before duplicates", idsQuery(idA, idA, "1"), 400, errorsBody("user_ids must be an array of strings with 17-19 characters long."), nil},
		{"17 fifty accepted", idsQuery(fifty...), 200, "", []string{idB}},
		{"17 fifty-one rejected", idsQuery(append(fifty, idA)...), 400, errorBody("You can only request up to 50 users at once."), nil},
		{"18 none monitored", idsQuery(idU, fakeIDs(1)[0]), 404, errorBody("Users you requested are not monitored by Lantern."), nil},
		{"19 some unknown dropped", idsQuery(idU, idB), 200, "", []string{idB}},
		{"20 request order", idsQuery(idC, idA, idU, idB), 200, "", []string{idC, idA, idB}},
		{"7 trailing slash and case", "/" + idsQuery(idB, idA), 200, "", []string{idB, idA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/api/v1/users" + tt.query
			if strings.HasPrefix(tt.query, "/") {
				path = "/API/V1/Users" + tt.query
			}
			r := s.do("GET", path, "")
			if r.status != tt.status {
				t.Fatalf("status %d want %d: %s", r.status, tt.status, r.body)
			}
			if tt.body != "" {
				expectJSON(t, "body", r.body, tt.body)
				return
			}
			if got := userIDs(t, r.body); strings.Join(got, ",") != strings.Join(tt.ids, ",") {
				t.Fatalf("users %v want %v", got, tt.ids)
			}
		})
	}
}

// TestBulkMatchesSingle: a user's object is the same in every route
// (docs/compat/lantern.md §10).
func TestBulkMatchesSingle(t *testing.T) {
	s := newTestServer(t, nil)
	s.member(aliceJSON, alicePresence(t))
	one := s.do("GET", "/api/v1/users/"+idA, "")
	bulk := s.do("GET", "/api/v1/users?user_ids="+idA, "")
	expectJSON(t, "bulk", bulk.body, "["+string(one.body)+"]")
	if got := s.dialect.UserJSON(mustGet(t, s, idA)); string(got) != string(one.body) {
		t.Fatalf("UserJSON differs from REST:\n%s\n%s", got, one.body)
	}
}

// TestSingle covers docs/compat/lantern.md §2.4 and the validation order of §1.4.
func TestSingle(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name, path string
		status     int
		body       string // exact body; "" for the JSON user object
	}{
		{"21 not a number", "/api/v1/users/abc", 400, errorsBody("user_id must be a number.")},
		{"22 too short", "/api/v1/users/123", 400, errorsBody("user_id must be 17-19 characters long.")},
		{"22 too long", "/api/v1/users/" + strings.Repeat("1", 20), 400, errorsBody("user_id must be 17-19 characters long.")},
		{"21 before query", "/api/v1/users/abc?svg=5", 400, errorsBody("user_id must be a number.")},
		{"23 unknown", "/api/v1/users/" + idU, 404, errorBody("User " + idU + " is not being monitored by Lantern.")},
		{"23 echoes path text", "/api/v1/users/+12345678901234567", 404, errorBody("User +12345678901234567 is not being monitored by Lantern.")},
		{"24 svg=true", "/api/v1/users/" + idA + "?svg=true", 400, errorsBody("svg must be a number.")},
		{"24 svg=2", "/api/v1/users/" + idA + "?svg=2", 400, errorsBody("svg must be either 0 or 1.")},
		{"24 svg=1.0", "/api/v1/users/" + idA + "?svg=1.0", 400, errorsBody("svg must be either 0 or 1.")},
		{"24 svg empty", "/api/v1/users/" + idA + "?svg=", 400, errorsBody("svg must be a number.")},
		{"25 theme without svg", "/api/v1/users/" + idA + "?theme=blue", 400, errorsBody(`Theme must be either "light" or "dark".`)},
		{"25 theme repeated", "/api/v1/users/" + idA + "?theme=dark&theme=light", 400, errorsBody("Theme must be a string.")},
		{"26 borderRadius", "/api/v1/users/" + idA + "?borderRadius=x", 400, errorsBody("borderRadius must be a number.")},
		{"26 negative decimal radius ok", "/api/v1/users/" + idA + "?borderRadius=-1.5", 200, ""},
		{"27 hideStatus=2", "/api/v1/users/" + idA + "?hideStatus=2", 400, errorsBody("hideStatus must be either 0 or 1.")},
		{"27 hideStatus=true", "/api/v1/users/" + idA + "?hideStatus=true", 400, errorsBody("hideStatus must be a number.")},
		{"27 every flag", "/api/v1/users/" + idA + "?hideServerTag=x", 400, errorsBody("hideServerTag must be a number.")},
		{"28 title 65", "/api/v1/users/" + idA + "?noActivityTitle=" + long(65), 400, errorsBody("noActivityTitle must be 1-64 characters long.")},
		{"28 title empty", "/api/v1/users/" + idA + "?noActivityTitle=", 400, errorsBody("noActivityTitle must be 1-64 characters long.")},
		{"28 title 64 emoji ok", "/api/v1/users/" + idA + "?noActivityTitle=" + url.QueryEscape(strings.Repeat("🔥", 64)), 200, ""},
		{"28 title repeated", "/api/v1/users/" + idA + "?noActivityTitle=a&noActivityTitle=b", 400, errorsBody("noActivityTitle must be a string.")},
		{"29 message 257", "/api/v1/users/" + idA + "?noActivityMessage=" + long(257), 400, errorsBody("noActivityMessage must be 1-256 characters long.")},
		{"order: svg before theme", "/api/v1/users/" + idA + "?theme=x&svg=x", 400, errorsBody("svg must be a number.")},
		{"30 svg=0 is JSON", "/api/v1/users/" + idA + "?svg=0", 200, ""},
		{"svg twice is JSON", "/api/v1/users/" + idA + "?svg=1&svg=1", 200, ""},
		{"unknown parameters ignored", "/api/v1/users/" + idA + "?foo=bar", 200, ""},
		{"7 upper case", "/API/V1/USERS/" + idA, 200, ""},
		{"7 trailing slash", "/api/v1/users/" + idA + "/", 200, ""},
		{"two trailing slashes", "/api/v1/users/" + idA + "//", 404, resourceNotFound},
		{"11 createSvg", "/api/v1/users/" + idA + "/createSvg", 404, resourceNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("GET", tt.path, "")
			if r.status != tt.status {
				t.Fatalf("status %d want %d: %s", r.status, tt.status, r.body)
			}
			if tt.body != "" {
				expectJSON(t, "body", r.body, tt.body)
				return
			}
			if !strings.HasPrefix(string(r.body), `{"metadata":{"id":"`+idA+`"`) {
				t.Fatalf("not the user object: %s", r.body)
			}
		})
	}
}

// TestSVGDelegated: svg=1 answers with the card (the card itself is tested
// with card*.go).
func TestSVGDelegated(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	r := s.do("GET", "/api/v1/users/"+idA+"?svg=1&hideBadges=1", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "image/svg+xml") {
		t.Fatalf("status %d type %q", r.status, r.header.Get("Content-Type"))
	}
}

// TestHTTPGeneral covers docs/compat/lantern.md §1.2–§1.4, §1.6 and §2.1.
func TestHTTPGeneral(t *testing.T) {
	s := newTestServer(t, nil)
	s.simpleMember(idA)
	tests := []struct {
		name, method, path string
		headers            []string
		status             int
		body               string // exact body; "" to skip
	}{
		{"5 unknown path", "GET", "/api/v2/nothing", nil, 404, resourceNotFound},
		{"5 unknown path upper case", "GET", "/API/whatever", nil, 404, resourceNotFound},
		{"6 POST users", "POST", "/api/v1/users", nil, 404, resourceNotFound},
		{"6 POST user", "POST", "/api/v1/users/" + idA, nil, 404, resourceNotFound},
		{"plain GET /socket is not Lantern's", "GET", "/api/v1/socket", nil, 404, resourceNotFound},
		{"HEAD works like GET", "HEAD", "/api/v1/users/" + idA, nil, 200, ""},
		{"10 preflight", "OPTIONS", "/api/v1/users/" + idA + "/storage/key", []string{"Origin", "https://example.com",
			"Access-Control-Request-Method", "PUT", "Access-Control-Request-Headers", "Authorization, Content-Type"}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do(tt.method, tt.path, "", tt.headers...)
			if r.status != tt.status {
				t.Fatalf("status %d want %d: %s", r.status, tt.status, r.body)
			}
			if tt.body != "" {
				expectJSON(t, "body", r.body, tt.body)
			}
			if r.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatal("1: no Access-Control-Allow-Origin: *")
			}
			if r.header.Get("ETag") != "" || r.header.Get("X-Powered-By") != "" {
				t.Fatal("2: ETag or X-Powered-By present")
			}
			if tt.method == "OPTIONS" {
				if m := r.header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "PUT") {
					t.Fatalf("10: Allow-Methods %q", m)
				}
				if h := r.header.Get("Access-Control-Allow-Headers"); !strings.Contains(h, "authorization") {
					t.Fatalf("10: Allow-Headers %q", h)
				}
			} else if ct := r.header.Get("Content-Type"); ct != server.JSONContentType {
				t.Fatalf("3: content type %q", ct)
			}
		})
	}

	// 8: GET / is the cross-dialect object, which Lantern clients read.
	r := s.do("GET", "/", "")
	var info struct {
		Data struct {
			Info                     string  `json:"info"`
			DiscordInvite            *string `json:"discord_invite"`
			CurrentlyMonitoringUsers *int    `json:"currently_monitoring_users"`
		} `json:"data"`
	}
	if r.status != 200 || json.Unmarshal(r.body, &info) != nil || info.Data.Info == "" ||
		info.Data.CurrentlyMonitoringUsers == nil || *info.Data.CurrentlyMonitoringUsers != 1 {
		t.Fatalf("8: GET / %d %s", r.status, r.body)
	}
}

func mustGet(t *testing.T, s *testServer, id string) *core.User {
	t.Helper()
	u, ok := s.hub.Get(id)
	if !ok {
		t.Fatalf("%s is not monitored", id)
	}
	return u
}
