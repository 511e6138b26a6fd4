package terraform

import (
	"fmt"
	"sort"
	"strings"
)

// Policy decides which planned changes need explicit permission.
//
// The rule: a change is refused when it deletes or replaces a resource
// whose type is protected, unless its exact address is in the run's allow
// list. Protection is by type, not by name: every bucket, every key and
// every catalog store is protected, because a rename in configuration must
// not silently drop protection. Creates, updates and forgets are never
// refused (forget leaves the cloud resource in place).
type Policy struct {
	// Protected maps a resource type to why deleting it is dangerous.
	Protected map[string]string
}

// DefaultPolicy protects the lakehouse's data, its encryption keys and its
// Iceberg catalog state on both clouds.
func DefaultPolicy() Policy {
	const (
		data    = "holds lakehouse data or audit logs"
		key     = "encrypts lakehouse data; deleting it makes the data unreadable"
		catalog = "holds Iceberg catalog state; deleting it orphans every table"
	)
	return Policy{Protected: map[string]string{
		"aws_s3_bucket":                        data,
		"google_storage_bucket":                data,
		"google_logging_project_bucket_config": data,
		"aws_kms_key":                          key,
		"google_kms_crypto_key":                key,
		"google_kms_key_ring":                  key,
		"aws_glue_catalog_database":            catalog,
		"aws_glue_catalog_table":               catalog,
		"aws_dynamodb_table":                   catalog,
		"aws_db_instance":                      catalog,
		"aws_rds_cluster":                      catalog,
		"google_sql_database_instance":         catalog,
		"google_sql_database":                  catalog,
		"google_bigquery_dataset":              catalog,
		"google_biglake_catalog":               catalog,
		"google_biglake_database":              catalog,
		"google_biglake_table":                 catalog,
	}}
}

// RefusedError lists the changes a Policy refused.
type RefusedError struct {
	// Target is the environment/cloud of the plan, e.g. "prod/aws".
	Target string
	// Refused are the destructive changes to protected resources.
	Refused []Refusal
}

// Refusal is one refused change and the reason its type is protected.
type Refusal struct {
	Change
	Reason string
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan %s refused: it would destroy %d protected resource(s):", e.Target, len(e.Refused))
	for _, r := range e.Refused {
		fmt.Fprintf(&b, "\n  - %s %s (%s %s)", r.Action, r.Address, r.Type, r.Reason)
	}
	b.WriteString("\nIf this is intended, re-run allowing exactly these addresses for this run, e.g. ")
	for i, r := range e.Refused {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "--allow-destroy=%s", r.Address)
	}
	b.WriteString("; otherwise change the configuration so the plan keeps them (check lifecycle, renames: use a moved block).")
	return b.String()
}

// Check returns a *RefusedError if s deletes or replaces a protected
// resource whose address is not in allow. target names the plan in the
// message (e.g. Target.String()).
func (p Policy) Check(target string, s Summary, allow []string) error {
	allowed := make(map[string]bool, len(allow))
	for _, a := range allow {
		allowed[strings.TrimSpace(a)] = true
	}
	var refused []Refusal
	for _, c := range s.Changes {
		if c.Action != Delete && c.Action != Replace {
			continue
		}
		reason, ok := p.Protected[c.Type]
		if !ok || allowed[c.Address] {
			continue
		}
		refused = append(refused, Refusal{Change: c, Reason: reason})
	}
	if len(refused) == 0 {
		return nil
	}
	sort.Slice(refused, func(i, j int) bool { return refused[i].Address < refused[j].Address })
	return &RefusedError{Target: target, Refused: refused}
}
