package terraform

import (
	"encoding/json"
	"fmt"
)

// Redacted replaces the value of every sensitive output in RedactOutputs.
const Redacted = "<sensitive>"

type outputValue struct {
	Sensitive bool            `json:"sensitive"`
	Type      json.RawMessage `json:"type,omitempty"`
	Value     any             `json:"value"`
}

// RedactOutputs reads the output of `terraform output -json` and returns it
// with the value of every output marked sensitive replaced by "<sensitive>".
// Non-sensitive outputs are kept as they are; the result is indented JSON
// with outputs sorted by name.
func RedactOutputs(outputJSON []byte) ([]byte, error) {
	var outs map[string]outputValue
	if err := json.Unmarshal(outputJSON, &outs); err != nil {
		return nil, fmt.Errorf("read terraform output -json: %w", err)
	}
	for name, o := range outs {
		if o.Sensitive {
			o.Value = Redacted
			outs[name] = o
		}
	}
	b, err := json.MarshalIndent(outs, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write redacted outputs: %w", err)
	}
	return append(b, '\n'), nil
}
