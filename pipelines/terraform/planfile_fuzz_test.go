package terraform

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zclconf/go-cty/cty"
	ctymsgpack "github.com/zclconf/go-cty/cty/msgpack"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/iceberg-lakehouse/iceberg-lakehouse/pipelines/internal/fuzztest"
)

// FuzzReadPlanBinding: reading a saved plan never panics, and a binding it
// reads is the one Terraform reads from the same bytes: the tfplan entry
// decoded by the protobuf library against the fields of planfile.proto the
// binding comes from (so wire types, UTF-8 strings, repeated and merged
// fields, map entries follow protobuf's rules, not ours), the environment
// variable decoded as Terraform does (cty's msgpack of a dynamic value),
// and a backend of a cloud the pipeline deploys to (s3 or gcs).
//
// The fuzzer varies the tfplan entry (zipped here, so it is not lost to
// the archive's checksums) and, as is, the whole file.
func FuzzReadPlanBinding(f *testing.F) {
	for name, raw := range fuzztest.Files(f, "testdata/planfiles/*.planfile") {
		entry, err := tfplanEntry(raw)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(entry)
	}
	plan := planDescriptor(f)
	f.Fuzz(func(t *testing.T, entry []byte) {
		file := zipped(t, entry)
		var got PlanBinding
		var err error
		fuzztest.Returns(t, entry, func() {
			_, _ = ReadPlanBinding(entry)
			got, err = ReadPlanBinding(file)
		})
		if err != nil {
			if !errors.Is(err, ErrNotPlanFile) && !errors.Is(err, ErrPlanWithoutBackend) {
				t.Fatalf("the error wraps neither ErrNotPlanFile nor ErrPlanWithoutBackend: %v", err)
			}
			return
		}
		if got.BackendType != "s3" && got.BackendType != "gcs" {
			t.Fatalf("%x: accepted a binding to backend %q", entry, got.BackendType)
		}
		want, err := terraformBinding(plan, entry)
		if err != nil {
			t.Fatalf("%x: read %+v, but Terraform refuses the plan: %v", entry, got, err)
		}
		if got != want {
			t.Fatalf("%x: read %+v, Terraform reads %+v", entry, got, want)
		}
	})
}

func zipped(t *testing.T, entry []byte) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: planEntry, Method: zip.Store})
	if err == nil {
		_, err = w.Write(entry)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// terraformBinding reads the binding the way Terraform's plan reader
// does, with the protobuf library decoding the message.
func terraformBinding(plan protoreflect.MessageDescriptor, entry []byte) (PlanBinding, error) {
	msg := dynamicpb.NewMessage(plan)
	if err := proto.Unmarshal(entry, msg); err != nil {
		return PlanBinding{}, err
	}
	field := func(m protoreflect.Message, name string) protoreflect.Value {
		return m.Get(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
	}
	has := func(m protoreflect.Message, name string) bool {
		return m.Has(m.Descriptor().Fields().ByName(protoreflect.Name(name)))
	}
	if v := field(msg, "version").Uint(); v != supportedPlanVersion {
		return PlanBinding{}, fmt.Errorf("version %d", v)
	}
	if !has(msg, "backend") || has(msg, "state_store") {
		return PlanBinding{}, errors.New("no backend, or a state_store")
	}
	backend := field(msg, "backend").Message()
	b := PlanBinding{BackendType: field(backend, "type").String(), Workspace: field(backend, "workspace").String()}
	if env := field(msg, "variables").Map().Get(protoreflect.ValueOfString(environmentVariable).MapKey()); env.IsValid() {
		val, err := ctymsgpack.Unmarshal(field(env.Message(), "msgpack").Bytes(), cty.DynamicPseudoType)
		switch {
		case err != nil:
			return PlanBinding{}, fmt.Errorf("variable environment: %w", err)
		case !val.IsKnown() || !val.Type().Equals(cty.String) && !val.IsNull():
			return PlanBinding{}, fmt.Errorf("variable environment is %#v", val)
		case !val.IsNull():
			b.Environment = val.AsString()
		}
	}
	setting := cloudOfBackend(b.BackendType).stateSetting()
	if config := field(field(backend, "config").Message(), "msgpack").Bytes(); setting != "" && len(config) > 0 {
		var attrs map[string]any
		if err := msgpack.Unmarshal(config, &attrs); err != nil {
			return PlanBinding{}, fmt.Errorf("backend config: %w", err)
		}
		switch v := attrs[setting].(type) {
		case string:
			b.StateKey = v
		case nil:
		default:
			return PlanBinding{}, fmt.Errorf("backend config %s is %T", setting, v)
		}
	}
	return b, nil
}

// planDescriptor describes the fields of tfplan.Plan (Terraform's
// internal/plans/planproto/planfile.proto, proto3) the binding comes
// from; the others are unknown fields to it, kept undecoded.
func planDescriptor(f *testing.F) protoreflect.MessageDescriptor {
	field := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, msg string) *descriptorpb.FieldDescriptorProto {
		fd := &descriptorpb.FieldDescriptorProto{
			Name: proto.String(name), JsonName: proto.String(name), Number: proto.Int32(num),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: typ.Enum(),
		}
		if msg != "" {
			fd.TypeName = proto.String(".tfplan." + msg)
		}
		return fd
	}
	const (
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		raw = descriptorpb.FieldDescriptorProto_TYPE_BYTES
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
	)
	variables := field("variables", int32(planVariables), msg, "Plan.VariablesEntry")
	variables.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("planfile.proto"), Package: proto.String("tfplan"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{
			{
				Name: proto.String("Plan"),
				Field: []*descriptorpb.FieldDescriptorProto{
					field("version", int32(planVersion), descriptorpb.FieldDescriptorProto_TYPE_UINT64, ""),
					variables,
					field("backend", int32(planBackend), msg, "Backend"),
					field("state_store", int32(planStore), msg, "StateStore"),
				},
				NestedType: []*descriptorpb.DescriptorProto{{
					Name:    proto.String("VariablesEntry"),
					Field:   []*descriptorpb.FieldDescriptorProto{field("key", int32(mapKey), str, ""), field("value", int32(mapValue), msg, "DynamicValue")},
					Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				}},
			},
			{Name: proto.String("Backend"), Field: []*descriptorpb.FieldDescriptorProto{
				field("type", int32(backendType), str, ""),
				field("config", int32(backendConfig), msg, "DynamicValue"),
				field("workspace", int32(backendWorkspace), str, ""),
			}},
			{Name: proto.String("StateStore")},
			{Name: proto.String("DynamicValue"), Field: []*descriptorpb.FieldDescriptorProto{field("msgpack", int32(dynamicMsgpack), raw, "")}},
		},
	}
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		f.Fatal(err)
	}
	return fd.Messages().ByName("Plan")
}
