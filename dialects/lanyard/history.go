package lanyard

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/core"
	"github.com/halyardhq/halyard/server"
)

// HistoryReader answers presence history timelines (package history's
// Recorder).
type HistoryReader interface {
	// Timeline returns the user's history within [from, to] (nil: the
	// defaults), EHISTORYDISABLED when they have not turned it on.
	Timeline(ctx context.Context, userID string, from, to *time.Time) (core.Timeline, error)
}

// errHistoryDisabled is the 404 for a monitored user without history.
var errHistoryDisabled = apiError{http.StatusNotFound, core.EHISTORYDISABLED,
	"This user has not turned presence history on (the bot's .history on command)"}

// badHistoryQuery is the 400 for a from or to that is not a time.
func badHistoryQuery(message string) apiError {
	return apiError{http.StatusBadRequest, server.StatusCode(http.StatusBadRequest), message}
}

func (d *Dialect) registerHistory(e *echo.Echo) {
	if d.opts.History == nil {
		return
	}
	e.GET("/v1/users/:id/history", d.getHistory)
	e.GET("/v1/users/:id/history/", d.getHistory) // trailing slash, as every Lanyard route
}

// getHistory serves GET /v1/users/:id/history?from=&to= (milliseconds
// since the epoch): Halyard's own route under Lanyard's prefix, in
// Lanyard's envelope and errors.
func (d *Dialect) getHistory(c echo.Context) error {
	id := c.Param("id")
	if _, ok := d.opts.Hub.Get(id); !ok {
		return errNotMonitored.write(c)
	}
	var bounds [2]*time.Time
	for i, name := range []string{"from", "to"} {
		raw, given := c.QueryParams()[name]
		if !given {
			continue
		}
		ms, err := strconv.ParseInt(raw[0], 10, 64)
		if err != nil || len(raw) > 1 || ms < 0 || ms > maxHistoryMillis {
			return badHistoryQuery(name + " must be one whole number of milliseconds since 1970-01-01 UTC, from 0 to 253402300799999").write(c)
		}
		t := time.UnixMilli(ms).UTC()
		bounds[i] = &t
	}
	tl, err := d.opts.History.Timeline(c.Request().Context(), id, bounds[0], bounds[1])
	switch core.ErrorCode(err) {
	case "":
	case core.EHISTORYDISABLED:
		return errHistoryDisabled.write(c)
	case core.EINVALID:
		return badHistoryQuery(core.ErrorMessage(err)).write(c)
	case core.EUNAVAILABLE: // the recorder says why (no database, a cluster)
		return apiError{http.StatusServiceUnavailable, "service_unavailable", core.ErrorMessage(err)}.write(c)
	default:
		return writeError(c, err, false)
	}
	b, err := json.Marshal(historyEnvelope{Success: true, Data: renderTimeline(tl)})
	if err != nil {
		return err
	}
	return server.JSONBlob(c, http.StatusOK, b)
}

// maxHistoryMillis is the last millisecond of year 9999.
const maxHistoryMillis = 253402300799999

// The history body, keys in this order (docs/openapi.yaml, HistoryResponse).
type historyEnvelope struct {
	Success bool        `json:"success"`
	Data    historyData `json:"data"`
}

type historyData struct {
	UserID     string            `json:"user_id"`
	From       int64             `json:"from"`
	To         int64             `json:"to"`
	Status     []statusSpan      `json:"status"`
	Activities []activitySpan    `json:"activities"`
	Totals     []activityTotalMS `json:"totals"`
}

type statusSpan struct {
	Status string `json:"status"`
	Start  int64  `json:"start"`
	End    *int64 `json:"end"`
}

type activitySpan struct {
	Name          string  `json:"name"`
	Type          int     `json:"type"`
	ApplicationID *string `json:"application_id"`
	Start         int64   `json:"start"`
	End           *int64  `json:"end"`
}

type activityTotalMS struct {
	Name string `json:"name"`
	Type int    `json:"type"`
	MS   int64  `json:"ms"`
}

// renderTimeline turns a timeline into the body's data: times in
// milliseconds, an ongoing interval's end null.
func renderTimeline(tl core.Timeline) historyData {
	end := func(t time.Time) *int64 {
		if t.IsZero() {
			return nil
		}
		ms := t.UnixMilli()
		return &ms
	}
	out := historyData{UserID: tl.UserID, From: tl.From.UnixMilli(), To: tl.To.UnixMilli(),
		Status: make([]statusSpan, 0, len(tl.Status)), Activities: make([]activitySpan, 0, len(tl.Activities)),
		Totals: make([]activityTotalMS, 0, len(tl.Totals))}
	for _, iv := range tl.Status {
		out.Status = append(out.Status, statusSpan{Status: string(iv.Status), Start: iv.Start.UnixMilli(), End: end(iv.End)})
	}
	for _, iv := range tl.Activities {
		s := activitySpan{Name: iv.Activity.Name, Type: iv.Activity.Type, Start: iv.Start.UnixMilli(), End: end(iv.End)}
		if app := iv.Activity.ApplicationID; app != "" {
			s.ApplicationID = &app
		}
		out.Activities = append(out.Activities, s)
	}
	for _, t := range tl.Totals {
		out.Totals = append(out.Totals, activityTotalMS{Name: t.Name, Type: t.Type, MS: t.Duration.Milliseconds()})
	}
	return out
}
