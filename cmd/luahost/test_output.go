package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/luahost/luahost/host"
)

// testOutput is one of busted's output handlers (-o): test is called as
// each result comes, end once with all of them.
type testOutput interface {
	test(r host.SpecResult)
	end(all []host.SpecResult, d time.Duration)
}

func newTestOutput(name string, verbose bool, stdout, stderr io.Writer) testOutput {
	switch name {
	case "plainTerminal":
		return &terminalOutput{w: stdout, verbose: verbose, marks: [4]string{"+", "-", "*", "."}, arrow: "->"}
	case "TAP":
		return &tapOutput{w: stdout, stderr: stderr, verbose: verbose}
	case "json":
		return &jsonOutput{w: stdout, stderr: stderr}
	case "junit":
		return &junitOutput{w: stdout, stderr: stderr}
	case "gTest":
		return &gtestOutput{w: stdout, verbose: verbose}
	}
	return &terminalOutput{w: stdout, verbose: verbose, marks: [4]string{"●", "◼", "✱", "◌"}, arrow: "→"}
}

// summary is busted's closing line.
func summary(all []host.SpecResult, d time.Duration) string {
	ok, failed, errored, pending := tally(all)
	return fmt.Sprintf("%s / %s / %s / %s : %.6f seconds", count(ok, "success", "successes"),
		count(failed, "failure", "failures"), count(errored, "error", "errors"), count(pending, "pending", "pending"),
		d.Seconds())
}

// passedFailed is luahost's last line: failures and errors both count as failed.
func passedFailed(all []host.SpecResult) string {
	ok, failed, errored, _ := tally(all)
	return fmt.Sprintf("%d passed, %d failed", ok, failed+errored)
}

// terminalOutput is utfTerminal and plainTerminal: one mark per test, the
// summary line, then each pending, failure and error with its file @ line.
type terminalOutput struct {
	w       io.Writer
	verbose bool
	marks   [4]string // success, failure, error, pending
	arrow   string
}

func (o *terminalOutput) test(r host.SpecResult) {
	switch r.Status {
	case "success":
		fmt.Fprint(o.w, o.marks[0])
	case "failure":
		fmt.Fprint(o.w, o.marks[1])
	case "error":
		fmt.Fprint(o.w, o.marks[2])
	case "pending":
		fmt.Fprint(o.w, o.marks[3])
	}
}

func (o *terminalOutput) end(all []host.SpecResult, d time.Duration) {
	fmt.Fprintln(o.w)
	fmt.Fprintln(o.w, summary(all, d))
	for _, status := range []string{"pending", "failure", "error"} {
		title := map[string]string{"pending": "Pending", "failure": "Failure", "error": "Error"}[status]
		for _, r := range all {
			if r.Status != status {
				continue
			}
			fmt.Fprintf(o.w, "\n%s %s %s @ %d\n%s\n", title, o.arrow, r.File, r.Line, r.Name)
			if r.Message != "" {
				fmt.Fprintln(o.w, r.Message)
			}
			if o.verbose && r.Trace != "" {
				fmt.Fprintln(o.w, r.Trace)
			}
		}
	}
	fmt.Fprintln(o.w)
	fmt.Fprintln(o.w, passedFailed(all))
}

// tapOutput is the Test Anything Protocol, as busted's TAP handler: the
// plan, then "ok N - name" or "not ok N - name" with the failure as
// comments; pending tests are "ok N - # SKIP".
type tapOutput struct {
	w, stderr io.Writer
	verbose   bool
}

func (o *tapOutput) test(host.SpecResult) {}

func (o *tapOutput) end(all []host.SpecResult, d time.Duration) {
	fmt.Fprintf(o.w, "1..%d\n", len(all))
	for i, r := range all {
		switch r.Status {
		case "success":
			fmt.Fprintf(o.w, "ok %d - %s\n", i+1, r.Name)
		case "pending":
			fmt.Fprintf(o.w, "ok %d - # SKIP %s\n", i+1, r.Name)
		default:
			fmt.Fprintf(o.w, "not ok %d - %s\n", i+1, r.Name)
			fmt.Fprintf(o.w, "# %s @ %d\n", r.File, r.Line)
			title := "Failure"
			if r.Status == "error" {
				title = "Error"
			}
			msg := r.Message
			if o.verbose && r.Trace != "" {
				msg += "\n" + r.Trace
			}
			fmt.Fprintf(o.w, "# %s message: %s\n", title, strings.ReplaceAll(msg, "\n", "\n# "))
		}
	}
	fmt.Fprintln(o.stderr, passedFailed(all))
}

// jsonOutput is busted's json handler: one object with the lists
// successes, failures, errors and pending, and the duration.
type jsonOutput struct {
	w, stderr io.Writer
}

type jsonTrace struct {
	ShortSrc    string `json:"short_src"`
	CurrentLine int    `json:"currentline"`
	Message     string `json:"message,omitempty"`
	Traceback   string `json:"traceback,omitempty"`
}

type jsonElement struct {
	Name  string    `json:"name"`
	Trace jsonTrace `json:"trace"`
}

type jsonTest struct {
	Name    string      `json:"name"`
	Message string      `json:"message,omitempty"`
	Element jsonElement `json:"element"`
	Trace   *jsonTrace  `json:"trace,omitempty"`
}

func (o *jsonOutput) test(host.SpecResult) {}

func (o *jsonOutput) end(all []host.SpecResult, d time.Duration) {
	lists := map[string][]jsonTest{"successes": {}, "failures": {}, "errors": {}, "pending": {}}
	key := map[string]string{"success": "successes", "failure": "failures", "error": "errors", "pending": "pending"}
	for _, r := range all {
		t := jsonTest{Name: r.Name, Message: r.Message,
			Element: jsonElement{Name: r.Name, Trace: jsonTrace{ShortSrc: r.File, CurrentLine: r.Line}}}
		if r.Status == "failure" || r.Status == "error" {
			t.Trace = &jsonTrace{ShortSrc: r.File, CurrentLine: r.Line, Message: r.Message, Traceback: r.Trace}
		}
		lists[key[r.Status]] = append(lists[key[r.Status]], t)
	}
	doc := map[string]any{"duration": d.Seconds()}
	for k, v := range lists {
		doc[k] = v
	}
	b, _ := json.Marshal(doc)
	fmt.Fprintln(o.w, string(b))
	fmt.Fprintln(o.stderr, passedFailed(all))
}

// junitOutput is JUnit XML, one testsuite per run as busted's junit handler.
type junitOutput struct {
	w, stderr io.Writer
}

type junitProblem struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *struct{}     `xml:"skipped,omitempty"`
}

type junitSuite struct {
	XMLName   xml.Name    `xml:"testsuite"`
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

func (o *junitOutput) test(host.SpecResult) {}

func (o *junitOutput) end(all []host.SpecResult, d time.Duration) {
	_, failed, errored, pending := tally(all)
	secs := fmt.Sprintf("%.6f", d.Seconds())
	s := junitSuite{Name: "busted", Tests: len(all), Failures: failed, Errors: errored, Skipped: pending, Time: secs,
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05")}
	for _, r := range all {
		c := junitCase{ClassName: r.File, Name: r.Name, Time: fmt.Sprintf("%.6f", r.Duration.Seconds())}
		text := fmt.Sprintf("%s:%d\n%s", r.File, r.Line, r.Trace)
		switch r.Status {
		case "failure":
			c.Failure = &junitProblem{Type: "failure", Message: r.Message, Text: text}
		case "error":
			c.Error = &junitProblem{Type: "error", Message: r.Message, Text: text}
		case "pending":
			c.Skipped = &struct{}{}
		}
		s.Cases = append(s.Cases, c)
	}
	doc := junitSuites{Tests: len(all), Failures: failed, Errors: errored, Time: secs, Suites: []junitSuite{s}}
	b, _ := xml.MarshalIndent(doc, "", "  ")
	fmt.Fprintf(o.w, "%s%s\n", xml.Header, b)
	fmt.Fprintln(o.stderr, passedFailed(all))
}

// gtestOutput is busted's gtest handler (Kong's plugin template sets it in
// .busted): GoogleTest's [ RUN ] / [ OK ] / [ FAILED ] lines per test,
// grouped by file, then the totals and the failed tests listed.
type gtestOutput struct {
	w       io.Writer
	verbose bool
	file    string
	inFile  int
	fileDur time.Duration
	files   int
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func gtestName(r host.SpecResult) string { return fmt.Sprintf("%s @ %d: %s", r.File, r.Line, r.Name) }

func (o *gtestOutput) closeFile() {
	if o.file != "" {
		fmt.Fprintf(o.w, "[----------] %s from %s (%s total)\n\n", count(o.inFile, "test", "tests"), o.file, ms(o.fileDur))
	}
}

func (o *gtestOutput) test(r host.SpecResult) {
	if o.files == 0 && o.file == "" {
		fmt.Fprintln(o.w, "[==========] Running tests from scanned files.")
		fmt.Fprintln(o.w, "[----------] Global test environment setup.")
	}
	if r.File != o.file {
		o.closeFile()
		o.file, o.inFile, o.fileDur = r.File, 0, 0
		o.files++
		fmt.Fprintf(o.w, "[----------] Running tests from %s\n", r.File)
	}
	o.inFile++
	o.fileDur += r.Duration
	if r.Status == "pending" {
		fmt.Fprintf(o.w, "[ PENDING  ] %s (%s)\n", gtestName(r), ms(r.Duration))
		return
	}
	fmt.Fprintf(o.w, "[ RUN      ] %s\n", gtestName(r))
	switch r.Status {
	case "success":
		fmt.Fprintf(o.w, "[       OK ] %s (%s)\n", gtestName(r), ms(r.Duration))
	case "failure", "error":
		fmt.Fprintln(o.w, r.Message)
		if o.verbose && r.Trace != "" {
			fmt.Fprintln(o.w, r.Trace)
		}
		tag := "[  FAILED  ]"
		if r.Status == "error" {
			tag = "[  ERROR   ]"
		}
		fmt.Fprintf(o.w, "%s %s (%s)\n", tag, gtestName(r), ms(r.Duration))
	}
}

func (o *gtestOutput) end(all []host.SpecResult, d time.Duration) {
	o.closeFile()
	ok, failed, errored, pending := tally(all)
	fmt.Fprintln(o.w, "[----------] Global test environment teardown.")
	fmt.Fprintf(o.w, "[==========] %s from %s ran. (%s total)\n", count(len(all), "test", "tests"),
		count(o.files, "test file", "test files"), ms(d))
	fmt.Fprintf(o.w, "[  PASSED  ] %s.\n", count(ok, "test", "tests"))
	list := func(status, tag string, n int) {
		if n == 0 {
			return
		}
		fmt.Fprintf(o.w, "%s %s, listed below:\n", tag, count(n, "test", "tests"))
		for _, r := range all {
			if r.Status == status {
				fmt.Fprintf(o.w, "%s %s\n", tag, gtestName(r))
			}
		}
	}
	list("pending", "[ PENDING  ]", pending)
	list("failure", "[  FAILED  ]", failed)
	list("error", "[  ERROR   ]", errored)
	if failed > 0 {
		fmt.Fprintf(o.w, "\n %d FAILED %s\n", failed, map[bool]string{true: "TEST", false: "TESTS"}[failed == 1])
	}
	if errored > 0 {
		fmt.Fprintf(o.w, " %d %s\n", errored, map[bool]string{true: "ERROR", false: "ERRORS"}[errored == 1])
	}
	fmt.Fprintln(o.w)
	fmt.Fprintln(o.w, summary(all, d))
	fmt.Fprintln(o.w, passedFailed(all))
}
