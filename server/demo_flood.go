package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"
)

// DemoFlooder is implemented by a DemoDriver that can flood the gateway
// with presence updates (the load tool's ingest scenario). It is separate
// from DemoDriver so drivers without it still satisfy DemoDriver.
type DemoFlooder interface {
	// StartFlood validates the sizes and starts dispatching events
	// PRESENCE_UPDATEs over the first users members as fast as the bot
	// takes them; it returns before they are all sent. ErrFloodRunning
	// means a flood is still going.
	StartFlood(events, users int) error
}

// ErrFloodRunning is StartFlood's answer while a previous flood runs.
var ErrFloodRunning = errors.New("a flood is already running")

// Flood bounds, checked before the driver sees the request.
const (
	maxFloodEvents = 10_000_000
	maxFloodUsers  = 1_000_000
)

// demoFlood is POST /admin/v1/demo/flood {"events":N,"users":U}.
func (s *Server) demoFlood(c echo.Context) error {
	f, ok := s.opts.Demo.(DemoFlooder)
	if !ok {
		return c.JSON(http.StatusNotFound, adminError(http.StatusNotFound, "this demo driver cannot flood"))
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return s.demoBadRequest(c, err)
	}
	var req struct {
		Events *int `json:"events"`
		Users  *int `json:"users"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() || req.Events == nil || req.Users == nil ||
		*req.Events < 1 || *req.Events > maxFloodEvents || *req.Users < 1 || *req.Users > maxFloodUsers {
		return c.JSON(http.StatusBadRequest, adminError(http.StatusBadRequest,
			`body must be {"events":<1 to 10000000>,"users":<1 to the number of simulated members>}`))
	}
	if err := f.StartFlood(*req.Events, *req.Users); err != nil {
		if errors.Is(err, ErrFloodRunning) {
			return c.JSON(http.StatusConflict, adminError(http.StatusConflict, err.Error()))
		}
		return c.JSON(http.StatusBadRequest, adminError(http.StatusBadRequest, err.Error()))
	}
	return c.JSON(http.StatusAccepted, map[string]any{"accepted": true, "events": *req.Events, "users": *req.Users})
}
