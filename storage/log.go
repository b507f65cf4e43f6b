package storage

import (
	"context"
	"log/slog"
)

// minLevelHandler drops records below a level. FerretDB logs a warning for
// every command it does not implement (endSessions, for one), which the
// driver sends routinely; only its errors are worth our log.
type minLevelHandler struct {
	min   slog.Level
	inner slog.Handler
}

func (h minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.inner.Enabled(ctx, l)
}

func (h minLevelHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.Handle(ctx, r)
}

func (h minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{min: h.min, inner: h.inner.WithAttrs(attrs)}
}

func (h minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{min: h.min, inner: h.inner.WithGroup(name)}
}

// ferretLogger is the logger given to the embedded FerretDB: errors only.
func ferretLogger(l *slog.Logger) *slog.Logger {
	return slog.New(minLevelHandler{min: slog.LevelError, inner: l.Handler()}).With("component", "ferretdb")
}
