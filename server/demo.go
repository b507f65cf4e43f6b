package server

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// DemoDriver drives the local Discord simulator in --demo mode, so changes
// travel the real gateway path (simulator → bot → hub).
type DemoDriver interface {
	// UpdatePresence dispatches a PRESENCE_UPDATE `d` object.
	UpdatePresence(d json.RawMessage) error
	// AddMember adds a Discord member object to the demo guild.
	AddMember(member json.RawMessage) error
	// RemoveMember removes a member from the demo guild.
	RemoveMember(userID string) error
	// SendDM sends a DM from the user to the bot.
	SendDM(userID, content string) error
	// DMMessages returns what the bot sent to the user's DM, oldest first.
	DMMessages(userID string) []DemoMessage
}

// DemoMessage is one message the bot sent.
type DemoMessage struct {
	Content   string          `json:"content"`
	Embeds    json.RawMessage `json:"embeds"`
	CreatedAt time.Time       `json:"created_at"`
}

// registerDemo adds the demo-only admin routes.
func (s *Server) registerDemo(g *echo.Group) {
	g.POST("/demo/presence", s.demoPresence)
	g.POST("/demo/members", s.demoAddMember)
	g.DELETE("/demo/members/:id", s.demoRemoveMember)
	g.POST("/demo/messages", s.demoSendMessage)
	g.GET("/demo/messages", s.demoMessages)
	g.POST("/demo/flood", s.demoFlood)
}

// readJSONObject reads a body that must be one JSON object.
func readJSONObject(c echo.Context) (json.RawMessage, error) {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
		return nil, errNotObject
	}
	return body, nil
}

var errNotObject = echo.NewHTTPError(http.StatusBadRequest, "body must be a JSON object")

func (s *Server) demoBadRequest(c echo.Context, err error) error {
	if IsTooLarge(err) {
		return TooLarge(c)
	}
	msg := err.Error()
	if he, ok := err.(*echo.HTTPError); ok {
		msg, _ = he.Message.(string)
	}
	return c.JSON(http.StatusBadRequest, adminError(http.StatusBadRequest, msg))
}

func (s *Server) demoPresence(c echo.Context) error {
	body, err := readJSONObject(c)
	if err != nil {
		return s.demoBadRequest(c, err)
	}
	if err := s.opts.Demo.UpdatePresence(body); err != nil {
		return s.demoBadRequest(c, err)
	}
	return c.JSON(http.StatusAccepted, map[string]bool{"accepted": true})
}

func (s *Server) demoAddMember(c echo.Context) error {
	body, err := readJSONObject(c)
	if err != nil {
		return s.demoBadRequest(c, err)
	}
	if err := s.opts.Demo.AddMember(body); err != nil {
		return s.demoBadRequest(c, err)
	}
	return c.JSON(http.StatusAccepted, map[string]bool{"accepted": true})
}

func (s *Server) demoRemoveMember(c echo.Context) error {
	id := c.Param("id")
	if !IsSnowflake(id) {
		return c.JSON(http.StatusBadRequest, adminError(http.StatusBadRequest, "id must be a Discord user id"))
	}
	if err := s.opts.Demo.RemoveMember(id); err != nil {
		return c.JSON(http.StatusNotFound, adminError(http.StatusNotFound, err.Error()))
	}
	return c.JSON(http.StatusAccepted, map[string]bool{"accepted": true})
}

func (s *Server) demoSendMessage(c echo.Context) error {
	body, err := readJSONObject(c)
	if err != nil {
		return s.demoBadRequest(c, err)
	}
	var msg struct {
		UserID  string `json:"user_id"`
		Content string `json:"content"`
	}
	if err := json.Unmarshal(body, &msg); err != nil || !IsSnowflake(msg.UserID) || msg.Content == "" || len(msg.Content) > 2000 {
		return c.JSON(http.StatusBadRequest, adminError(http.StatusBadRequest, `body must be {"user_id":"<id>","content":"<1 to 2000 characters>"}`))
	}
	if err := s.opts.Demo.SendDM(msg.UserID, msg.Content); err != nil {
		return s.demoBadRequest(c, err)
	}
	return c.JSON(http.StatusAccepted, map[string]bool{"accepted": true})
}

func (s *Server) demoMessages(c echo.Context) error {
	id := c.QueryParam("user_id")
	if !IsSnowflake(id) {
		return c.JSON(http.StatusBadRequest, adminError(http.StatusBadRequest, "user_id must be a Discord user id"))
	}
	msgs := s.opts.Demo.DMMessages(id)
	if msgs == nil {
		msgs = []DemoMessage{}
	}
	return c.JSON(http.StatusOK, map[string]any{"messages": msgs})
}

// DemoHandler serves the demo admin routes alone (/admin/v1/demo/…,
// guarded by adminToken, none when it is empty, with the admin API's errors, body cap and
// request log): `halyard sim` puts them beside the simulator's gateway
// and REST, so the routes a --demo node has drive a simulator several
// nodes share.
func DemoHandler(adminToken string, d DemoDriver, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{opts: Options{AdminToken: adminToken, Demo: d, Logger: log}, log: log, echo: e,
		formats: []ErrorFormat{adminFormat()}}
	e.HTTPErrorHandler = s.handleError
	e.Use(s.around)
	if adminToken != "" { // no token, no routes: "Bearer " alone must never pass
		s.registerDemo(e.Group("/admin/v1", s.requireAdmin))
	}
	return e
}
