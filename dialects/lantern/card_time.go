package lantern

import (
	"fmt"
	"math"
	"time"
)

// cardElapsed is the activity's "<mm:ss> elapsed" line: whole seconds since
// start formatted with the UTC mm:ss rule of docs/compat/lantern.md §3.4 (hours dropped, negatives
// clamped to 00:00, §9 #6).
func cardElapsed(startMS int64, now time.Time) string {
	s := (now.UnixMilli() - startMS) / 1000
	if s < 0 {
		s = 0
	}
	return fmt.Sprintf("%02d:%02d elapsed", (s/60)%60, s%60)
}

// Minutes in date-fns's day and month.
const (
	distanceMinutesInDay   = 1440
	distanceMinutesInMonth = 43200
)

// cardFormatDistance is date-fns cardFormatDistance(date, base, {addSuffix: true})
// with the English locale, in UTC: "5 minutes ago", "about 1 hour ago",
// "almost 2 years ago", or "in …" for a date after base.
func cardFormatDistance(date, base time.Time) string {
	earlier, later := date, base
	future := date.After(base)
	if future {
		earlier, later = base, date
	}
	seconds := math.Trunc(later.Sub(earlier).Seconds())
	minutes := int(math.Floor(seconds/60 + 0.5)) // Math.round
	var text string
	switch {
	case minutes == 0:
		text = "less than a minute"
	case minutes < 45:
		text = distancePlural(minutes, "1 minute", "%d minutes")
	case minutes < 90:
		text = "about 1 hour"
	case minutes < distanceMinutesInDay:
		text = distancePlural(distanceRound(minutes, 60), "about 1 hour", "about %d hours")
	case minutes < 2520:
		text = "1 day"
	case minutes < distanceMinutesInMonth:
		text = distancePlural(distanceRound(minutes, distanceMinutesInDay), "1 day", "%d days")
	case minutes < 2*distanceMinutesInMonth:
		text = distancePlural(distanceRound(minutes, distanceMinutesInMonth), "about 1 month", "about %d months")
	default:
		months := distanceMonths(earlier, later)
		if months < 12 {
			text = distancePlural(distanceRound(minutes, distanceMinutesInMonth), "1 month", "%d months")
			break
		}
		years, rem := months/12, months%12
		switch {
		case rem < 3:
			text = distancePlural(years, "about 1 year", "about %d years")
		case rem < 9:
			text = distancePlural(years, "over 1 year", "over %d years")
		default:
			text = distancePlural(years+1, "almost 1 year", "almost %d years")
		}
	}
	if future {
		return "in " + text
	}
	return text + " ago"
}

func distancePlural(n int, one, other string) string {
	if n == 1 {
		return one
	}
	return fmt.Sprintf(other, n)
}

// distanceRound is Math.round(a / b) for non-negative a.
func distanceRound(a, b int) int {
	return int(math.Floor(float64(a)/float64(b) + 0.5))
}

// distanceMonths is date-fns differenceInMonths(later, earlier) in UTC: the
// calendar months between them, less one when the last month is not full.
func distanceMonths(earlier, later time.Time) int {
	earlier, later = earlier.UTC(), later.UTC()
	months := (later.Year()-earlier.Year())*12 + int(later.Month()-earlier.Month())
	if months > 0 && earlier.AddDate(0, months, 0).After(later) && !distanceEndOfMonth(later) {
		months--
	}
	return months
}

func distanceEndOfMonth(t time.Time) bool {
	return t.AddDate(0, 0, 1).Day() == 1
}
