// Package checklist holds the README's "Adding an environment" checklist to
// what it promises: run literally, under a name nobody chose, on a copy of
// the repository, it adds an environment that every suite reading
// environments accepts with no code or test change.
package checklist

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Heading is the README section whose first bash block is the checklist.
const Heading = "## Adding an environment"

// choiceLine is one of the lines the checklist starts with: a variable the
// reader sets (the name, the host ports), with an example value and an
// optional comment.
var choiceLine = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=([a-z0-9]+)(\s+#.*)?$`)

// envName is an environment name (pipelines/environment's rule).
var envName = regexp.MustCompile(`^[a-z][a-z0-9]{1,9}$`)

// Choice is a variable the reader sets before running the checklist.
type Choice struct{ Variable, Example string }

// Port says whether the choice is a host port (a number).
func (c Choice) Port() bool { return strings.Trim(c.Example, "0123456789") == "" }

// Checklist is the README's block: the choices it starts with (the first
// names the environment), the commands that write the environment's files,
// and the verification command it ends with.
type Checklist struct {
	Choices []Choice
	Steps   []string // the lines between the choices and the verification
	Verify  string   // the last line, make test
}

// Parse finds the checklist in a README: the first ```bash block after the
// line starting with Heading. It must start by naming the environment and
// end with `make test`, so the test can run it under another name and run
// the suites itself.
func Parse(readme string) (Checklist, error) {
	lines := strings.Split(readme, "\n")
	start := -1
	for i, l := range lines {
		if strings.HasPrefix(l, Heading) {
			start = i
			break
		}
	}
	if start < 0 {
		return Checklist{}, fmt.Errorf("README.md has no section %q", Heading)
	}
	var block []string
	in := false
	for _, l := range lines[start+1:] {
		switch {
		case !in && strings.HasPrefix(l, "## "):
			return Checklist{}, fmt.Errorf("README.md section %q has no ```bash block", Heading)
		case !in && l == "```bash":
			in = true
		case in && l == "```":
			return fromBlock(block)
		case in:
			block = append(block, l)
		}
	}
	return Checklist{}, errors.New("README.md: the checklist's ```bash block is not closed")
}

func fromBlock(block []string) (Checklist, error) {
	var c Checklist
	for len(block) > 0 {
		m := choiceLine.FindStringSubmatch(block[0])
		if m == nil {
			break
		}
		c.Choices = append(c.Choices, Choice{Variable: m[1], Example: m[2]})
		block = block[1:]
	}
	if len(c.Choices) == 0 || !envName.MatchString(c.Choices[0].Example) {
		return Checklist{}, errors.New("the checklist must start by naming the new environment (e.g. name=qa)")
	}
	if len(block) < 2 {
		return Checklist{}, errors.New("the checklist has no steps between its choices and make test")
	}
	c.Steps, c.Verify = block[:len(block)-1], strings.TrimSpace(block[len(block)-1])
	if c.Verify != "make test" {
		return Checklist{}, fmt.Errorf("the checklist's last line is %q: it must end with make test", c.Verify)
	}
	return c, nil
}

// Script is the checklist's steps as a POSIX shell script, with the
// reader's choices: values[variable], or the README's example.
func (c Checklist) Script(values map[string]string) string {
	var b strings.Builder
	for _, ch := range c.Choices {
		v, ok := values[ch.Variable]
		if !ok {
			v = ch.Example
		}
		fmt.Fprintf(&b, "%s=%s\n", ch.Variable, v)
	}
	return b.String() + strings.Join(c.Steps, "\n") + "\n"
}

func TestParseReadsTheChecklistBlock(t *testing.T) {
	readme := "# x\n\n" + Heading + " (the guide's)\n\ntext\n\n```bash\nname=qa   # any name\nport=3003\n# a step\ncp a \"b.$name.$port\"\nmake test\n```\n\n## Next\n"
	c, err := Parse(readme)
	if err != nil {
		t.Fatal(err)
	}
	want := Checklist{Choices: []Choice{{"name", "qa"}, {"port", "3003"}}, Steps: []string{"# a step", `cp a "b.$name.$port"`}, Verify: "make test"}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	if c.Choices[0].Port() || !c.Choices[1].Port() {
		t.Fatal("the port is the numeric choice")
	}
	if got := c.Script(map[string]string{"name": "zz1"}); got != "name=zz1\nport=3003\n# a step\ncp a \"b.$name.$port\"\n" {
		t.Fatalf("script %q", got)
	}
}

func TestParseRefusesAChecklistItCannotRunUnderAnotherName(t *testing.T) {
	for readme, want := range map[string]string{
		"# x\n": "has no section",
		Heading + "\n\n## Next\n```bash\nname=qa\n```\n":           "has no ```bash block",
		Heading + "\n```bash\nname=qa\ncp a b\nmake test\n":        "is not closed",
		Heading + "\n```bash\ncp a b\ncp c d\nmake test\n```\n":    "must start by naming the new environment",
		Heading + "\n```bash\nport=3003\ncp a b\nmake test\n```\n": "must start by naming the new environment",
		Heading + "\n```bash\nname=qa\ncp a b\nmake lint\n```\n":   "must end with make test",
		Heading + "\n```bash\nname=qa\nmake test\n```\n":           "has no steps",
	} {
		_, err := Parse(readme)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want an error containing %q", readme, err, want)
		}
	}
}

// The repository's README has a checklist this package can run (also with
// -short, which skips running it).
func TestTheRepositoryReadmeHasARunnableChecklist(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Parse(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("choices %v, %d lines of steps", c.Choices, len(c.Steps))
}
