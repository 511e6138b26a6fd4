package terraform

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Policy decides which planned changes need explicit permission.
//
// The rule: a change is refused when its resource type is protected against
// that kind of change, unless its exact address is in the run's allow
// list. The kinds: deleting or replacing the resource; a create, update or
// replace after which lifecycle rules expire data the current rules keep
// (Change.ExpiresData); and a change that turns off or weakens a protection
// the resource has now (Change.Weakens): versioning suspended, a public
// access block lifted, a bucket policy's deny statement dropped or
// narrowed, a key disabled or its deletion window shortened, object lock or
// bucket retention shortened, point-in-time recovery or backups reduced,
// deletion protection off, or the catalog's network opened (an ingress
// from the internet, a public load balancer or Cloud Run ingress, a public
// IAM member; these are judged on creates too). Protection is by type and
// attribute, not by name: every bucket, key, catalog store and ingress rule
// is protected, because a rename in configuration must not silently drop
// protection. Forgets are never refused (forget leaves the cloud resource
// in place).
type Policy struct {
	// Protected maps a resource type to why deleting it is dangerous;
	// deletes and replaces of these types are refused. DefaultPolicy fills
	// it from the same table as Rules, for readers of this field.
	Protected map[string]string
	// Rules maps a resource type to the kinds of change refused and why.
	// For a type in both, Rules wins.
	Rules map[string]Protection
}

// Refuse is a set of kinds of planned change.
type Refuse uint8

// The kinds of change a Protection can refuse.
const (
	// RefuseDelete refuses deleting the resource.
	RefuseDelete Refuse = 1 << iota
	// RefuseReplace refuses replacing it (delete and create, either order).
	RefuseReplace
	// RefuseExpiry refuses a create, update or replace after which its
	// lifecycle rules delete data the current rules keep
	// (Change.ExpiresData).
	RefuseExpiry
	// RefuseWeaken refuses a change that turns off or weakens one of its
	// protection settings (Change.Weakens).
	RefuseWeaken

	// RefuseDestroy refuses deletes and replaces.
	RefuseDestroy = RefuseDelete | RefuseReplace
)

// Protection says which changes of one resource type are refused and why.
type Protection struct {
	Refuse Refuse
	// Reason completes "<type> …" in the refusal message.
	Reason string
}

// refuses returns whether p refuses c.
func (p Protection) refuses(c Change) bool {
	switch {
	case c.Action == Delete:
		return p.Refuse&RefuseDelete != 0
	case c.Action == Replace && p.Refuse&RefuseReplace != 0:
		return true
	}
	return (c.ExpiresData && p.Refuse&RefuseExpiry != 0) || (len(c.Weakens) > 0 && p.Refuse&RefuseWeaken != 0)
}

// defaultProtections is the one table of what DefaultPolicy protects, how,
// and why.
//
// Deliberately not protected: aws_kms_alias (deleting or renaming an alias
// leaves the key and the data intact, and nothing in the roots resolves the
// key by alias); aws_s3_bucket_ownership_controls and IAM (access, not
// data; a mistake there is fixed by the next apply).
var defaultProtections = func() map[string]Protection {
	const (
		data       = "holds lakehouse data or audit logs"
		key        = "encrypts lakehouse data; deleting it makes the data unreadable"
		catalog    = "holds Iceberg catalog state; deleting it orphans every table"
		history    = "holds Iceberg catalog state or Dagster's run, event and schedule history; deleting it orphans every table or loses that history"
		login      = "is the database login the running catalog or Dagster uses; deleting it breaks them until they are redeployed"
		secret     = "holds a database password the running catalog or Dagster uses; a new or missing value breaks the running catalog or Dagster until they are redeployed with the new value"
		expiry     = "rules delete objects for good: a new, shorter or wider expiration deletes lakehouse data the current rules keep"
		versioning = "keeps overwritten and deleted objects recoverable; deleting it suspends versioning"
	)
	return map[string]Protection{
		// Data and its safety nets.
		"aws_s3_bucket":                         {RefuseDestroy, data},
		"google_storage_bucket":                 {RefuseDestroy | RefuseExpiry, data + "; its lifecycle " + expiry},
		"google_logging_project_bucket_config":  {RefuseDestroy, data},
		"aws_s3_bucket_lifecycle_configuration": {RefuseExpiry, expiry},
		"aws_s3_bucket_versioning":              {RefuseDestroy, versioning},
		"aws_s3_bucket_object_lock_configuration": {RefuseDestroy,
			"retains objects against deletion; deleting it drops the default retention"},
		"aws_s3_bucket_policy": {RefuseDestroy,
			"denies access without TLS; deleting it leaves the bucket reachable over plain HTTP"},
		"aws_s3_bucket_public_access_block": {RefuseDestroy,
			"keeps the bucket private; deleting it lets an ACL or policy make data public"},
		"aws_s3_bucket_server_side_encryption_configuration": {RefuseDestroy,
			"encrypts every new object with the lakehouse key; deleting it writes new objects without it"},
		// Encryption keys.
		"aws_kms_key":           {RefuseDestroy, key},
		"google_kms_crypto_key": {RefuseDestroy, key},
		"google_kms_key_ring":   {RefuseDestroy, key},
		// Not used by the roots; an explicit version of a key is the key.
		"google_kms_crypto_key_version": {RefuseDestroy, key},
		// Catalog state, Dagster's run history and the credentials the running
		// catalog and Dagster use.
		"aws_glue_catalog_database":            {RefuseDestroy, catalog},
		"aws_glue_catalog_table":               {RefuseDestroy, catalog},
		"aws_dynamodb_table":                   {RefuseDestroy, catalog},
		"aws_db_instance":                      {RefuseDestroy, history},
		"aws_rds_cluster":                      {RefuseDestroy, catalog},
		"google_sql_database_instance":         {RefuseDestroy, history},
		"google_sql_database":                  {RefuseDestroy, history},
		"google_sql_user":                      {RefuseDestroy, login},
		"google_bigquery_dataset":              {RefuseDestroy, catalog},
		"google_biglake_catalog":               {RefuseDestroy, catalog},
		"google_biglake_database":              {RefuseDestroy, catalog},
		"google_biglake_table":                 {RefuseDestroy, catalog},
		"random_password":                      {RefuseDestroy, secret},
		"google_secret_manager_secret":         {RefuseDestroy, secret + "; deleting the secret deletes every version"},
		"google_secret_manager_secret_version": {RefuseDestroy, secret},
		"aws_secretsmanager_secret":            {RefuseDestroy, secret + "; deleting the secret deletes every version"},
		"aws_secretsmanager_secret_version":    {RefuseDestroy, secret},
	}
}

// DefaultPolicy protects the lakehouse's data and what keeps it safe
// (versioning, retention, privacy, encryption, lifecycle rules, backups,
// deletion protection), its encryption keys, its Iceberg catalog state and
// the catalog's database password, and the network in front of the catalog
// and Dagster, on both clouds. Every type with protection settings
// (safeguards) is refused weakening them.
func DefaultPolicy() Policy {
	rules := defaultProtections()
	for typ := range safeguards {
		p := rules[typ]
		p.Refuse |= RefuseWeaken
		if p.Reason == "" {
			p.Reason = "has protection settings a plan must not weaken"
		}
		rules[typ] = p
	}
	protected := make(map[string]string, len(rules))
	for typ, p := range rules {
		if p.Refuse&RefuseDestroy != 0 {
			protected[typ] = p.Reason
		}
	}
	return Policy{Protected: protected, Rules: rules}
}

// Protection returns how p protects a resource type, false if it does not.
func (p Policy) Protection(typ string) (Protection, bool) {
	if r, ok := p.Rules[typ]; ok {
		return r, true
	}
	if reason, ok := p.Protected[typ]; ok {
		return Protection{Refuse: RefuseDestroy, Reason: reason}, true
	}
	return Protection{}, false
}

// RefusedError lists the changes a Policy refused.
type RefusedError struct {
	// Target is the environment/cloud of the plan, e.g. "prod/aws".
	Target string
	// Refused are the changes the policy refused: destructive changes to
	// protected resources, changes that expire their data and changes that
	// weaken their protection.
	Refused []Refusal
}

// Refusal is one refused change and the reason its type is protected.
type Refusal struct {
	Change
	// Reason says why the type is protected against the delete, replace or
	// expiry; empty when only weakenings are refused, each of which says
	// what it loses (Change.Weakens).
	Reason string
}

func (e *RefusedError) Error() string {
	var b strings.Builder
	destroys := slices.ContainsFunc(e.Refused, func(r Refusal) bool { return r.Reason != "" && (r.Action == Delete || r.Action == Replace) })
	expires := slices.ContainsFunc(e.Refused, func(r Refusal) bool { return r.ExpiresData })
	weakens := slices.ContainsFunc(e.Refused, func(r Refusal) bool { return len(r.Weakens) > 0 })
	var what []string
	if destroys {
		what = append(what, "destroy protected resources")
	}
	if expires {
		what = append(what, "make lifecycle rules expire data")
	}
	if weakens {
		what = append(what, "remove protection")
	}
	fmt.Fprintf(&b, "plan %s refused: %d change(s) would %s:", e.Target, len(e.Refused), strings.Join(what, " or "))
	for _, r := range e.Refused {
		what := r.Address
		if r.ExpiresData {
			what += ", expiring data"
		}
		if r.Reason != "" {
			what += fmt.Sprintf(" (%s %s)", r.Type, r.Reason)
		}
		if len(r.Weakens) > 0 {
			what += ", removing protection:"
		}
		fmt.Fprintf(&b, "\n  - %s %s", r.Action, what)
		for _, w := range r.Weakens {
			fmt.Fprintf(&b, "\n      %s", w)
		}
	}
	b.WriteString("\nIf this is intended, re-run allowing exactly these addresses for this run, e.g. ")
	for i, r := range e.Refused {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "--allow-destroy=%s", r.Address)
	}
	b.WriteString(" (the same consent covers a destroy, an expiry and removing protection); otherwise change the configuration so the plan keeps them (check lifecycle, renames: use a moved block).")
	return b.String()
}

// Check returns a *RefusedError if s makes a change p refuses (deletes or
// replaces a protected resource, makes lifecycle rules expire data, or
// turns off or weakens a protection setting) to a resource whose address
// is not in allow. target names the plan in the message (e.g.
// Target.String()).
func (p Policy) Check(target string, s Summary, allow []string) error {
	allowed := make(map[string]bool, len(allow))
	for _, a := range allow {
		allowed[strings.TrimSpace(a)] = true
	}
	var refused []Refusal
	for _, c := range s.Changes {
		prot, ok := p.Protection(c.Type)
		if !ok || allowed[c.Address] || !prot.refuses(c) {
			continue
		}
		r := Refusal{Change: c}
		if (Protection{Refuse: prot.Refuse &^ RefuseWeaken}).refuses(c) {
			r.Reason = prot.Reason
		}
		if prot.Refuse&RefuseWeaken == 0 {
			r.Weakens = nil // not what this policy refuses
		}
		refused = append(refused, r)
	}
	if len(refused) == 0 {
		return nil
	}
	sort.Slice(refused, func(i, j int) bool { return refused[i].Address < refused[j].Address })
	return &RefusedError{Target: target, Refused: refused}
}
