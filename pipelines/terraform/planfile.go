package terraform

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
)

// A saved plan file is a zip archive written by `terraform plan -out`. Its
// entry "tfplan" is a protobuf message tfplan.Plan (terraform's
// internal/plans/planproto/planfile.proto, format version 3 since
// Terraform 1.0). Terraform applies a saved plan to the backend recorded in
// that message, whatever the working directory was initialised with, so
// the only trustworthy answer to "which state does this file change?" is
// the message itself, never the file's name.
//
// The field numbers below were read from planfile.proto and checked against
// plans written by Terraform 1.11.4 (TestHostPlanFileBindingTestdataIsCurrent
// regenerates the fixtures under testdata/planfiles).
const (
	planEntry = "tfplan"

	planVersion   protowire.Number = 1  // uint64 version
	planVariables protowire.Number = 2  // map<string, DynamicValue> variables
	planBackend   protowire.Number = 13 // Backend backend
	planStore     protowire.Number = 29 // StateStore state_store (pluggable state storage)

	mapKey   protowire.Number = 1 // map entry: key
	mapValue protowire.Number = 2 // map entry: value

	backendType      protowire.Number = 1 // string type
	backendConfig    protowire.Number = 2 // DynamicValue config
	backendWorkspace protowire.Number = 3 // string workspace

	dynamicMsgpack protowire.Number = 1 // bytes msgpack

	// supportedPlanVersion is the only tfplan format Terraform 1.x writes;
	// Terraform itself refuses any other.
	supportedPlanVersion = 3
	// maxPlanEntry bounds how much of the tfplan entry is read, so a
	// hostile archive cannot exhaust memory.
	maxPlanEntry = 512 << 20
)

// environmentVariable is the root variable that names the environment in
// every environments/<env>.tfvars (see the environment package).
const environmentVariable = "environment"

// defaultWorkspace is the only workspace the pipeline uses: each
// environment has its own state key instead.
const defaultWorkspace = "default"

// PlanBinding is what Terraform recorded inside a saved plan file about
// where the plan applies. It carries no values other than these names.
type PlanBinding struct {
	// BackendType is the state backend type, "s3" or "gcs".
	BackendType string
	// StateKey is the s3 key or the gcs prefix the plan reads and writes.
	StateKey string
	// Workspace is the Terraform workspace ("default" for the pipeline).
	Workspace string
	// Environment is the value of the root variable "environment", "" if
	// the plan sets none.
	Environment string
}

// ErrNotPlanFile is wrapped by ReadPlanBinding's error when its input is
// not a saved Terraform plan.
var ErrNotPlanFile = errors.New("not a Terraform plan file")

// ErrPlanWithoutBackend is wrapped by ReadPlanBinding's error when the plan
// was made with local state (or a state_store), so it belongs to no
// environment.
var ErrPlanWithoutBackend = errors.New("plan file records no s3 or gcs backend")

// ReadPlanBinding reads the backend, workspace and environment recorded in
// a saved plan file (the bytes `terraform plan -out=FILE` wrote). Errors
// wrap ErrNotPlanFile or ErrPlanWithoutBackend.
func ReadPlanBinding(planFile []byte) (PlanBinding, error) {
	raw, err := tfplanEntry(planFile)
	if err != nil {
		return PlanBinding{}, err
	}
	p, err := decodePlan(raw)
	if err != nil {
		return PlanBinding{}, fmt.Errorf("%w: entry %s: %w; pass the file `terraform plan -out` wrote (Terraform 1.x)", ErrNotPlanFile, planEntry, err)
	}
	switch {
	case p.stateStore:
		return PlanBinding{}, fmt.Errorf("%w (it keeps state through a state_store block, which the pipeline does not use): configure the s3 or gcs backend and plan again", ErrPlanWithoutBackend)
	case !p.backend || p.binding.BackendType == "local":
		return PlanBinding{}, fmt.Errorf("%w (it was made with local state), so it belongs to no environment: make the plan with the pipeline (`plan --env ENV`), which initialises the environment's s3/gcs backend", ErrPlanWithoutBackend)
	case cloudOfBackend(p.binding.BackendType) == "":
		return PlanBinding{}, fmt.Errorf("%w (it records backend %q), so it belongs to no environment: make the plan with the pipeline (`plan --env ENV`), which initialises the environment's s3/gcs backend", ErrPlanWithoutBackend, p.binding.BackendType)
	}
	return p.binding, nil
}

// tfplanEntry returns the uncompressed "tfplan" entry of the archive.
func tfplanEntry(planFile []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(planFile), int64(len(planFile)))
	if err != nil {
		return nil, fmt.Errorf("%w (%d bytes, not a zip archive: %w): pass the file `terraform plan -out=FILE` wrote, e.g. the plan's `file`, not its JSON or summary", ErrNotPlanFile, len(planFile), err)
	}
	for _, f := range zr.File {
		if f.Name != planEntry {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: open entry %s: %w", ErrNotPlanFile, planEntry, err)
		}
		defer rc.Close()
		raw, err := io.ReadAll(io.LimitReader(rc, maxPlanEntry+1))
		if err != nil {
			return nil, fmt.Errorf("%w: read entry %s: %w", ErrNotPlanFile, planEntry, err)
		}
		if len(raw) > maxPlanEntry {
			return nil, fmt.Errorf("%w: entry %s is larger than %d MiB", ErrNotPlanFile, planEntry, maxPlanEntry>>20)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("%w: the zip archive has no %q entry (a plan file written by `terraform plan -out` has one)", ErrNotPlanFile, planEntry)
}

// planFields are the top-level fields of tfplan.Plan the binding needs,
// read with protobuf's rules: a field that occurs again replaces a scalar
// and merges into a message, the last entry of a map key wins, and
// strings are UTF-8 (planfile.proto is proto3).
type planFields struct {
	binding     PlanBinding
	backend     bool   // the plan has a backend message
	stateStore  bool   // the plan has a state_store message
	config      []byte // msgpack of the backend's config
	environment []byte // msgpack of the variable "environment", nil if unset
}

// decodePlan walks the top-level fields of tfplan.Plan, keeping the format
// version, the "environment" variable and the backend.
func decodePlan(raw []byte) (planFields, error) {
	var (
		p          planFields
		version    uint64
		sawVersion bool
	)
	err := eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch num {
		case planVersion:
			if typ != protowire.VarintType {
				return wireTypeError(num, typ)
			}
			version, sawVersion = n, true
		case planVariables:
			if typ != protowire.BytesType {
				return wireTypeError(num, typ)
			}
			name, value, err := decodeVariable(v)
			if err != nil {
				return fmt.Errorf("variable %q: %w", name, err)
			}
			if name == environmentVariable {
				p.environment = value
			}
		case planBackend:
			if typ != protowire.BytesType {
				return wireTypeError(num, typ)
			}
			if err := decodeBackend(v, &p); err != nil {
				return fmt.Errorf("backend: %w", err)
			}
			p.backend = true
		case planStore:
			if typ != protowire.BytesType {
				return wireTypeError(num, typ)
			}
			p.stateStore = true
		}
		return nil
	})
	if err != nil {
		return planFields{}, err
	}
	if !sawVersion {
		return planFields{}, errors.New("no format version")
	}
	if version != supportedPlanVersion {
		return planFields{}, fmt.Errorf("format version %d, this pipeline reads version %d", version, supportedPlanVersion)
	}
	if p.environment != nil {
		env, err := dynamicString(p.environment)
		if err != nil {
			return planFields{}, fmt.Errorf("variable %q: %w", environmentVariable, err)
		}
		p.binding.Environment = env
	}
	if p.backend {
		if len(p.config) == 0 {
			return planFields{}, errors.New("backend: no config (terraform plan always records one)")
		}
		if setting := cloudOfBackend(p.binding.BackendType).stateSetting(); setting != "" {
			key, err := msgpackMapString(p.config, setting)
			if err != nil {
				return planFields{}, fmt.Errorf("backend config %s: %w", setting, err)
			}
			p.binding.StateKey = key
		}
	}
	return p, nil
}

// decodeBackend merges one tfplan.Backend message into p.
func decodeBackend(raw []byte, p *planFields) error {
	return eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case backendType, backendWorkspace, backendConfig:
			if typ != protowire.BytesType {
				return wireTypeError(num, typ)
			}
		default:
			return nil
		}
		switch num {
		case backendType:
			return utf8String(v, &p.binding.BackendType)
		case backendWorkspace:
			return utf8String(v, &p.binding.Workspace)
		}
		m, set, err := dynamicMsgpackOf(v)
		if err != nil {
			return fmt.Errorf("config: %w", err)
		}
		if set {
			p.config = m
		}
		return nil
	})
}

// decodeVariable reads one map<string, DynamicValue> entry and returns the
// name and the msgpack of its value, which Terraform requires.
func decodeVariable(raw []byte) (string, []byte, error) {
	var (
		name  string
		value []byte
	)
	err := eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case mapKey, mapValue:
			if typ != protowire.BytesType {
				return wireTypeError(num, typ)
			}
		default:
			return nil
		}
		if num == mapKey {
			return utf8String(v, &name)
		}
		m, set, err := dynamicMsgpackOf(v)
		if set {
			value = m
		}
		return err
	})
	if err == nil && len(value) == 0 {
		err = errors.New("no value (terraform plan records every variable's)")
	}
	return name, value, err
}

// dynamicMsgpackOf returns the msgpack bytes of a tfplan.DynamicValue and
// whether the message sets them (a later message merging into an earlier
// one keeps the earlier bytes unless it sets its own).
func dynamicMsgpackOf(raw []byte) (m []byte, set bool, err error) {
	err = eachField(raw, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != dynamicMsgpack {
			return nil
		}
		if typ != protowire.BytesType {
			return wireTypeError(num, typ)
		}
		m, set = v, true
		return nil
	})
	return m, set, err
}

func utf8String(v []byte, into *string) error {
	if !utf8.Valid(v) {
		return errors.New("a string field is not UTF-8")
	}
	*into = string(v)
	return nil
}

func wireTypeError(num protowire.Number, typ protowire.Type) error {
	return fmt.Errorf("field %d has wire type %d", num, typ)
}

// eachField calls fn for every field of a protobuf message: v holds the
// bytes of a length-delimited field, n the value of a varint.
func eachField(raw []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(raw) > 0 {
		num, typ, l := protowire.ConsumeTag(raw)
		if l < 0 {
			return fmt.Errorf("protobuf: %w", protowire.ParseError(l))
		}
		raw = raw[l:]
		var (
			v []byte
			n uint64
		)
		switch typ {
		case protowire.VarintType:
			n, l = protowire.ConsumeVarint(raw)
		case protowire.BytesType:
			v, l = protowire.ConsumeBytes(raw)
		default:
			l = protowire.ConsumeFieldValue(num, typ, raw)
		}
		if l < 0 {
			return fmt.Errorf("protobuf field %d: %w", num, protowire.ParseError(l))
		}
		raw = raw[l:]
		if err := fn(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
