package backup

import (
	"time"

	"github.com/halyardhq/halyard/core"
)

// Bounds of an interval line's activity.
const (
	// maxActivityType is the highest activity type Discord defines
	// (5, competing).
	maxActivityType = 5
	// maxActivityName bounds an activity's name (Discord's are far
	// shorter).
	maxActivityName = 1024
)

// interval checks an interval line: a status or an activity (never both),
// a start and an end after it.
func (r *Reader) interval(l *line) (core.HistoryInterval, error) {
	iv := core.HistoryInterval{UserID: l.ID}
	if l.Start == nil || l.End == nil {
		return iv, r.lineError("an interval line needs start and end")
	}
	iv.Start = l.Start.UTC().Truncate(time.Millisecond)
	iv.End = l.End.UTC().Truncate(time.Millisecond)
	if !iv.End.After(iv.Start) {
		return iv, r.lineError("an interval's end must be after its start")
	}
	switch {
	case l.Status != "":
		if l.Name != nil || l.Type != nil || l.ApplicationID != "" {
			return iv, r.lineError("an interval is a status or an activity, not both")
		}
		iv.Status = core.Status(l.Status)
		if !iv.Status.Valid() {
			return iv, r.lineError("%q is not a status (online, idle, dnd or offline)", l.Status)
		}
	case l.Name != nil:
		if *l.Name == "" || len(*l.Name) > maxActivityName {
			return iv, r.lineError("an activity's name is 1 to %d bytes", maxActivityName)
		}
		if l.Type == nil || *l.Type < 0 || *l.Type > maxActivityType {
			return iv, r.lineError("an activity's type is 0 to %d", maxActivityType)
		}
		if l.ApplicationID != "" && !isUserID(l.ApplicationID) {
			return iv, r.lineError("%q is not an application id", l.ApplicationID)
		}
		iv.Activity = core.HistoryActivity{Name: *l.Name, Type: *l.Type, ApplicationID: l.ApplicationID}
	default:
		return iv, r.lineError("an interval line needs a status or an activity name")
	}
	return iv, nil
}
