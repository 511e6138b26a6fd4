package main

import (
	"bytes"
	"io"
)

// rewriter replaces old with new in whole lines written through it, so
// messages about the harness's copy of the module name the real files.
type rewriter struct {
	w        io.Writer
	old, new string
	buf      bytes.Buffer
}

func (r *rewriter) Write(p []byte) (int, error) {
	r.buf.Write(p)
	for {
		i := bytes.IndexByte(r.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := r.buf.Next(i + 1)
		if _, err := r.w.Write(bytes.ReplaceAll(line, []byte(r.old), []byte(r.new))); err != nil {
			return len(p), err
		}
	}
}

// Flush writes a trailing partial line.
func (r *rewriter) Flush() {
	if r.buf.Len() > 0 {
		_, _ = r.w.Write(bytes.ReplaceAll(r.buf.Bytes(), []byte(r.old), []byte(r.new)))
		r.buf.Reset()
	}
}
