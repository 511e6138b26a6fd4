package terraform

import (
	"bytes"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zclconf/go-cty/cty"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
)

// dynamicString decodes a variable value as Terraform does: cty's msgpack
// encoding of a dynamic value, [type as JSON, value]. The value must be a
// known string; null is "".
func dynamicString(m []byte) (string, error) {
	v, err := ctymsgpack.Unmarshal(m, cty.DynamicPseudoType)
	switch {
	case err != nil:
		return "", fmt.Errorf("msgpack: %w", err)
	case !v.IsKnown():
		return "", fmt.Errorf("msgpack: an unknown value")
	case v.IsNull():
		return "", nil
	case !v.Type().Equals(cty.String):
		return "", fmt.Errorf("msgpack: a %s, want a string", v.Type().FriendlyName())
	}
	return v.AsString(), nil
}

// msgpackMapString returns the string attribute name of a msgpack map
// (cty's encoding of an object), "" if it is null or absent. The whole map
// must decode, as Terraform decodes all of it: skipping the other
// attributes by their length prefixes alone accepted a config with a
// malformed value that Terraform refuses (found by FuzzReadPlanBinding).
// The skipping walk runs first: it allocates nothing, so the full decode
// after it only meets lengths the bytes really hold. Their values are never returned or printed: they may hold credentials.
// A name given twice is refused: readers disagree on which one counts.
func msgpackMapString(m []byte, name string) (string, error) {
	dec := msgpack.NewDecoder(bytes.NewReader(m))
	n, err := dec.DecodeMapLen()
	if err != nil {
		return "", fmt.Errorf("msgpack: %w", err)
	}
	var (
		value string
		found bool
	)
	for range n {
		k, err := dec.DecodeString()
		if err != nil {
			return "", fmt.Errorf("msgpack key: %w", err)
		}
		if k != name {
			if err := dec.Skip(); err != nil {
				return "", fmt.Errorf("msgpack %s: %w", k, err)
			}
			continue
		}
		if found {
			return "", fmt.Errorf("msgpack: %s is set twice", name)
		}
		if value, err = decodeNullableString(dec); err != nil {
			return "", err
		}
		found = true
	}
	var whole map[string]any
	if err := msgpack.Unmarshal(m, &whole); err != nil {
		return "", fmt.Errorf("msgpack: %w", err)
	}
	return value, nil
}

func decodeNullableString(dec *msgpack.Decoder) (string, error) {
	s, err := dec.DecodeInterfaceLoose()
	if err != nil {
		return "", fmt.Errorf("msgpack: %w (an unknown value?)", err)
	}
	switch v := s.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	}
	return "", fmt.Errorf("msgpack: got %T, want a string", s)
}
