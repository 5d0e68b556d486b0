package luavm

import (
	"fmt"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Lua 5.1's os.date and os.time, with the C locale's strftime.

func openOsFixes(L *lua.LState, t *lua.LTable) {
	t.RawSetString("date", L.NewFunction(osDate))
	t.RawSetString("time", L.NewFunction(osTime))
}

// osDate is os.date([format [, time]]): "!" for UTC, "*t" for a table.
func osDate(L *lua.LState) int {
	format := "%c"
	if L.Get(1) != lua.LNil {
		format = checkStringLike(L, 1)
	}
	var sec int64
	if L.Get(2) == lua.LNil {
		sec = time.Now().Unix()
	} else {
		sec = int64(numberToInt(checkNumber(L, 2)))
	}
	tm := time.Unix(sec, 0)
	if strings.HasPrefix(format, "!") {
		format = format[1:]
		tm = tm.UTC()
	} else {
		tm = tm.In(time.Local)
	}
	if strings.HasPrefix(format, "*t") {
		t := L.NewTable()
		t.RawSetString("sec", lua.LNumber(tm.Second()))
		t.RawSetString("min", lua.LNumber(tm.Minute()))
		t.RawSetString("hour", lua.LNumber(tm.Hour()))
		t.RawSetString("day", lua.LNumber(tm.Day()))
		t.RawSetString("month", lua.LNumber(tm.Month()))
		t.RawSetString("year", lua.LNumber(tm.Year()))
		t.RawSetString("wday", lua.LNumber(tm.Weekday()+1))
		t.RawSetString("yday", lua.LNumber(tm.YearDay()))
		t.RawSetString("isdst", lua.LBool(tm.IsDST()))
		L.Push(t)
		return 1
	}
	L.Push(lua.LString(strftime(format, tm)))
	return 1
}

var (
	shortDays   = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

// strftime formats tm as glibc's strftime does in the "C" locale.
func strftime(format string, tm time.Time) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 == len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'a':
			b.WriteString(shortDays[tm.Weekday()])
		case 'A':
			b.WriteString(longDays[tm.Weekday()])
		case 'b', 'h':
			b.WriteString(shortMonths[tm.Month()-1])
		case 'B':
			b.WriteString(longMonths[tm.Month()-1])
		case 'c':
			b.WriteString(strftime("%a %b %e %H:%M:%S %Y", tm))
		case 'C':
			fmt.Fprintf(&b, "%02d", tm.Year()/100)
		case 'd':
			fmt.Fprintf(&b, "%02d", tm.Day())
		case 'D', 'x':
			b.WriteString(strftime("%m/%d/%y", tm))
		case 'e':
			fmt.Fprintf(&b, "%2d", tm.Day())
		case 'F':
			b.WriteString(strftime("%Y-%m-%d", tm))
		case 'H':
			fmt.Fprintf(&b, "%02d", tm.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (tm.Hour()+11)%12+1)
		case 'j':
			fmt.Fprintf(&b, "%03d", tm.YearDay())
		case 'k':
			fmt.Fprintf(&b, "%2d", tm.Hour())
		case 'l':
			fmt.Fprintf(&b, "%2d", (tm.Hour()+11)%12+1)
		case 'm':
			fmt.Fprintf(&b, "%02d", tm.Month())
		case 'M':
			fmt.Fprintf(&b, "%02d", tm.Minute())
		case 'n':
			b.WriteByte('\n')
		case 'p':
			if tm.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'P':
			if tm.Hour() < 12 {
				b.WriteString("am")
			} else {
				b.WriteString("pm")
			}
		case 'r':
			b.WriteString(strftime("%I:%M:%S %p", tm))
		case 'R':
			b.WriteString(strftime("%H:%M", tm))
		case 's':
			fmt.Fprintf(&b, "%d", tm.Unix())
		case 'S':
			fmt.Fprintf(&b, "%02d", tm.Second())
		case 't':
			b.WriteByte('\t')
		case 'T', 'X':
			b.WriteString(strftime("%H:%M:%S", tm))
		case 'u':
			fmt.Fprintf(&b, "%d", (int(tm.Weekday())+6)%7+1)
		case 'U':
			fmt.Fprintf(&b, "%02d", (tm.YearDay()+6-int(tm.Weekday()))/7)
		case 'V':
			_, w := tm.ISOWeek()
			fmt.Fprintf(&b, "%02d", w)
		case 'G':
			y, _ := tm.ISOWeek()
			fmt.Fprintf(&b, "%d", y)
		case 'g':
			y, _ := tm.ISOWeek()
			fmt.Fprintf(&b, "%02d", y%100)
		case 'w':
			fmt.Fprintf(&b, "%d", tm.Weekday())
		case 'W':
			fmt.Fprintf(&b, "%02d", (tm.YearDay()+6-(int(tm.Weekday())+6)%7)/7)
		case 'y':
			fmt.Fprintf(&b, "%02d", tm.Year()%100)
		case 'Y':
			fmt.Fprintf(&b, "%d", tm.Year())
		case 'z':
			b.WriteString(tm.Format("-0700"))
		case 'Z':
			name, _ := tm.Zone()
			if name == "UTC" && tm.Location() == time.UTC {
				name = "GMT"
			}
			b.WriteString(name)
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// osTime is os.time([t]): t's fields in local time, normalized as mktime
// does; day, month and year are required.
func osTime(L *lua.LState) int {
	if L.Get(1) == lua.LNil {
		L.Push(lua.LNumber(time.Now().Unix()))
		return 1
	}
	t := checkTable(L, 1)
	field := func(key string, d int) int {
		if f, ok := toNumber(t.RawGetString(key)); ok {
			return numberToInt(f)
		}
		if d < 0 {
			raise(L, "field '%s' missing in date table", key)
		}
		return d
	}
	sec := field("sec", 0)
	min := field("min", 0)
	hour := field("hour", 12)
	day := field("day", -1)
	month := field("month", -1)
	year := field("year", -1)
	tm := time.Date(year, time.Month(month), day, hour, min, sec, 0, time.Local)
	L.Push(lua.LNumber(tm.Unix()))
	return 1
}
