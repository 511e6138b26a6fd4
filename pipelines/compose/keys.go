package compose

import "strings"

// Handling is what Translate does with one compose key.
type Handling int

// The three ways a key is handled. Every key is one of them: a key missing
// from keyTable is refused.
const (
	// Mapped keys are read into the Spec (Translate may still refuse a
	// value it cannot represent, and says which values it takes).
	Mapped Handling = iota + 1
	// Ignored keys are left out on purpose: the reason says why the stack
	// behaves the same without them.
	Ignored
	// Refused keys fail Translate: dropping them would change what the
	// stack does.
	Refused
)

func (h Handling) String() string {
	switch h {
	case Mapped:
		return "mapped"
	case Ignored:
		return "ignored"
	case Refused:
		return "refused"
	}
	return "unknown"
}

// keyRule is one row of keyTable.
type keyRule struct {
	// Key is the key's path in the merged compose file: "*" stands for a
	// name (a service, a volume, a depends_on entry), list items are not
	// numbered, extension fields are "x-*".
	Key      string
	Handling Handling
	Why      string
}

// Reasons shared by several rows.
const (
	whyIsolation  = "it changes the container's isolation from the host; the engine runs every service unprivileged in its own namespaces"
	whyResources  = "a per-container resource knob with no equivalent; use deploy.resources.limits (cpus, memory)"
	whyNetworking = "services reach each other by service name (the binding's host name); this networking setting has no equivalent"
	whyNoRuntime  = "no Docker API, daemon or host device is reachable from the engine's services"
	whyMetadata   = "read by tools that watch Docker's API (proxies, log shippers), none of which run in the engine: its effect would be lost silently"
	whyOutput     = "how `docker compose up` shows a container's output; the engine keeps every service's output either way"
	whyStop       = "how Docker stops a container; the engine stops services when the session ends and only volumes outlive it"
)

// keyTable is the one list of how every compose key is translated. A row
// marked Ignored or Refused also covers the keys under it unless a longer
// row says otherwise; a Mapped row covers only itself, so a new sub-key of a
// mapped key is refused until it gets its own row.
var keyTable = []keyRule{
	// Top level.
	{"name", Mapped, "Spec.Project: every name that must not collide between environments derives from it"},
	{"services", Mapped, "Spec.Services, in dependency order; services of inactive profiles are already left out by Load"},
	{"volumes", Mapped, "named volumes become Spec.Volumes, \"<project>-<volume>\""},
	{"volumes.*.name", Mapped, "must be compose's own \"<project>_<volume>\": a fixed name is one volume shared by every project"},
	{"volumes.*.labels", Ignored, "metadata on the Docker volume; nothing in the stack reads it"},
	{"volumes.*.external", Refused, "an external volume is storage outside the project, shared by every environment; the stack's volumes are the engine's, scoped to the project"},
	{"volumes.*.driver", Refused, "the engine's volumes have no driver: the data would not be where the driver puts it"},
	{"volumes.*.driver_opts", Refused, "the engine's volumes have no driver: the data would not be where the driver puts it"},
	{"volumes.*", Refused, "only a plain named volume has an equivalent (the engine's volume, scoped to the project)"},
	{"networks", Ignored, "only compose's default network is accepted: on it every service reaches every other by name, as bound services do"},
	{"networks.*.name", Ignored, "compose names the default network \"<project>_default\"; the engine needs no network name"},
	{"networks.*", Refused, "a network's driver, addresses or isolation has no equivalent: services are connected by binding"},
	{"secrets", Refused, "file secrets have no translation yet; pass secrets as environment variables named in TranslateOptions.Secrets"},
	{"configs", Refused, "configs have no translation yet; mount the file from the project directory instead"},
	{"models", Refused, "model runners are a Docker Desktop feature with no equivalent"},
	{"jobs", Refused, "compose jobs have no translation yet; use a service with restart \"no\" that a dependent waits for (service_completed_successfully)"},
	{"x-*", Ignored, "extension fields hold YAML anchors for the file's authors; compose itself ignores them"},

	// Services: what runs.
	{"services.*", Mapped, "one Service each"},
	{"services.*.name", Mapped, "Service.Name: the host name other services use"},
	{"services.*.image", Mapped, "Service.Image; ProjectImage when it is TranslateOptions.ProjectImage"},
	{"services.*.entrypoint", Mapped, "Service.Entrypoint"},
	{"services.*.command", Mapped, "Service.Command"},
	{"services.*.environment", Mapped, "Service.Environment, sorted; values equal to a secret placeholder go to SecretEnvironment"},
	{"services.*.env_file", Mapped, "compose-go reads the files into environment while loading: their variables arrive through environment"},
	{"services.*.user", Mapped, "Service.User"},
	{"services.*.working_dir", Mapped, "Service.WorkingDir"},
	{"services.*.profiles", Ignored, "Load applies COMPOSE_PROFILES: a service of an inactive profile is not in the project, an active one runs like any other"},
	{"services.*.extends", Ignored, "compose-go resolves extends while loading: the result is the service's own keys"},
	{"services.*.build", Refused, "the pipeline builds the project image itself (dagger call build); set image to the reference it exports"},
	{"services.*.dockerfile", Refused, "the pipeline builds the project image itself (dagger call build); set image to the reference it exports"},
	{"services.*.platform", Refused, "services run on the engine's platform; another one would run a different image than the one named"},
	{"services.*.pull_policy", Refused, "the engine pulls by reference; pin the image by digest instead"},
	{"services.*.pull_refresh_after", Refused, "the engine pulls by reference; pin the image by digest instead"},
	{"services.*.init", Refused, "the engine chooses the init process of a service"},
	{"services.*.read_only", Refused, "a read-only root file system has no equivalent"},
	{"services.*.umask", Refused, "the engine sets no umask; set it in the entrypoint"},

	// Services: ports, health, order.
	{"services.*.ports", Mapped, "targets go to Service.Ports, published ports to Service.Published"},
	{"services.*.ports.target", Mapped, "Service.Ports"},
	{"services.*.ports.published", Mapped, "Service.Published (one port, not a range)"},
	{"services.*.ports.protocol", Mapped, "tcp only: Ports and Published are TCP ports, so udp is refused"},
	{"services.*.ports.mode", Ignored, "ingress or host is swarm's routing mode; on one engine both mean the port is reachable"},
	{"services.*.ports.name", Ignored, "a label for humans; it changes no port"},
	{"services.*.ports.app_protocol", Ignored, "a hint for tools (http, grpc); it changes no port"},
	{"services.*.ports.host_ip", Refused, "Published has no host address: `up` binds the host port itself"},
	{"services.*.expose", Mapped, "Service.Ports (tcp, one port each)"},
	{"services.*.healthcheck.test", Mapped, "Healthcheck.Test: CMD runs the argv, CMD-SHELL one string with /bin/sh -c, NONE disables"},
	{"services.*.healthcheck.interval", Mapped, "Healthcheck.Interval"},
	{"services.*.healthcheck.timeout", Mapped, "Healthcheck.Timeout"},
	{"services.*.healthcheck.retries", Mapped, "Healthcheck.Retries"},
	{"services.*.healthcheck.start_period", Mapped, "Healthcheck.StartPeriod"},
	{"services.*.healthcheck.start_interval", Mapped, "Healthcheck.StartInterval"},
	{"services.*.healthcheck.disable", Mapped, "true: Healthcheck is nil"},
	{"services.*.depends_on", Mapped, "Service.DependsOn and the order of Spec.Services"},
	{"services.*.depends_on.*.condition", Mapped, "Dependency.Condition: service_started, service_healthy or service_completed_successfully"},
	{"services.*.depends_on.*.required", Mapped, "Dependency.Required"},
	{"services.*.depends_on.*.restart", Ignored, "restarts the dependent when `docker compose` restarts the dependency; the engine restarts nothing"},
	{"services.*.restart", Mapped, "\"no\" with a dependent waiting for service_completed_successfully makes a OneShot job; other policies do not apply: a service lives as long as the session and is not restarted"},
	{"services.*.scale", Refused, "one Service is one container; replicas would be silently one"},

	// Services: storage.
	{"services.*.volumes", Mapped, "Service.Mounts"},
	{"services.*.volumes.type", Mapped, "volume (a project-scoped named volume) or bind (a path inside the project directory); tmpfs, npipe, cluster and image are refused"},
	{"services.*.volumes.source", Mapped, "Mount.Source"},
	{"services.*.volumes.target", Mapped, "Mount.Target"},
	{"services.*.volumes.read_only", Mapped, "Mount.ReadOnly"},
	{"services.*.volumes.consistency", Ignored, "a Docker Desktop performance hint for macOS bind mounts; the content is the same"},
	{"services.*.volumes.bind.create_host_path", Ignored, "false only forbids creating a missing source; the module mounts directories of the source tree and never creates one"},
	{"services.*.volumes.bind", Refused, "propagation, SELinux relabelling and recursive read-only modes have no equivalent"},
	{"services.*.volumes.volume", Refused, "nocopy and subpath have no equivalent for a volume of the engine"},
	{"services.*.volumes.tmpfs", Refused, "tmpfs mounts have no translation"},
	{"services.*.volumes.image", Refused, "image mounts have no translation"},
	{"services.*.volumes_from", Refused, "mount the named volumes explicitly instead"},
	{"services.*.volume_driver", Refused, "the engine's volumes have no driver"},
	{"services.*.tmpfs", Refused, "tmpfs mounts have no translation; use a named volume"},
	{"services.*.secrets", Refused, "file secrets have no translation yet; pass secrets as environment variables named in TranslateOptions.Secrets"},
	{"services.*.configs", Refused, "configs have no translation yet; mount the file from the project directory instead"},
	{"services.*.storage_opt", Refused, whyResources},

	// Services: resources.
	{"services.*.deploy", Refused, "swarm orchestration (replicas, placement, update and rollback, restart_policy, labels) has no equivalent on one engine"},
	{"services.*.deploy.resources.limits.cpus", Mapped, "Limits.NanoCPUs"},
	{"services.*.deploy.resources.limits.memory", Mapped, "Limits.MemoryBytes"},
	{"services.*.deploy.resources.reservations", Ignored, "a reservation asks a scheduler for headroom; one engine schedules nothing, so nothing the stack does changes"},
	{"services.*.cpus", Refused, whyResources},
	{"services.*.cpu_count", Refused, whyResources},
	{"services.*.cpu_percent", Refused, whyResources},
	{"services.*.cpu_period", Refused, whyResources},
	{"services.*.cpu_quota", Refused, whyResources},
	{"services.*.cpu_rt_period", Refused, whyResources},
	{"services.*.cpu_rt_runtime", Refused, whyResources},
	{"services.*.cpu_shares", Refused, whyResources},
	{"services.*.cpuset", Refused, whyResources},
	{"services.*.mem_limit", Refused, whyResources},
	{"services.*.mem_reservation", Refused, whyResources},
	{"services.*.memswap_limit", Refused, whyResources},
	{"services.*.mem_swappiness", Refused, whyResources},
	{"services.*.pids_limit", Refused, whyResources},
	{"services.*.shm_size", Refused, whyResources},
	{"services.*.blkio_config", Refused, whyResources},
	{"services.*.oom_kill_disable", Refused, whyResources},
	{"services.*.oom_score_adj", Refused, whyResources},
	{"services.*.ulimits", Refused, whyResources},

	// Services: isolation and host access.
	{"services.*.privileged", Refused, whyIsolation},
	{"services.*.cap_add", Refused, whyIsolation},
	{"services.*.cap_drop", Refused, whyIsolation},
	{"services.*.security_opt", Refused, whyIsolation},
	{"services.*.pid", Refused, whyIsolation},
	{"services.*.ipc", Refused, whyIsolation},
	{"services.*.uts", Refused, whyIsolation},
	{"services.*.userns_mode", Refused, whyIsolation},
	{"services.*.cgroup", Refused, whyIsolation},
	{"services.*.cgroup_parent", Refused, whyIsolation},
	{"services.*.sysctls", Refused, whyIsolation},
	{"services.*.isolation", Refused, whyIsolation},
	{"services.*.runtime", Refused, whyIsolation},
	{"services.*.group_add", Refused, whyIsolation},
	{"services.*.credential_spec", Refused, whyIsolation},
	{"services.*.devices", Refused, whyNoRuntime},
	{"services.*.device_cgroup_rules", Refused, whyNoRuntime},
	{"services.*.gpus", Refused, whyNoRuntime},
	{"services.*.use_api_socket", Refused, whyNoRuntime},
	{"services.*.models", Refused, whyNoRuntime},
	{"services.*.provider", Refused, whyNoRuntime},

	// Services: networking and names.
	{"services.*.networks", Ignored, "only compose's default network is accepted: on it every service reaches every other by name, as bound services do"},
	{"services.*.networks.*", Refused, whyNetworking},
	{"services.*.network_mode", Refused, whyNetworking},
	{"services.*.net", Refused, whyNetworking},
	{"services.*.links", Refused, whyNetworking},
	{"services.*.external_links", Refused, whyNetworking},
	{"services.*.extra_hosts", Refused, whyNetworking},
	{"services.*.dns", Refused, whyNetworking},
	{"services.*.dns_opt", Refused, whyNetworking},
	{"services.*.dns_search", Refused, whyNetworking},
	{"services.*.hostname", Refused, whyNetworking},
	{"services.*.domainname", Refused, whyNetworking},
	{"services.*.mac_address", Refused, whyNetworking},
	{"services.*.container_name", Refused, "a fixed container name collides when two environments run side by side; the service name is the host name"},

	// Services: metadata, output, lifecycle.
	{"services.*.labels", Refused, whyMetadata},
	{"services.*.label_file", Refused, whyMetadata},
	{"services.*.annotations", Refused, whyMetadata},
	{"services.*.logging", Ignored, whyOutput},
	{"services.*.log_driver", Ignored, whyOutput},
	{"services.*.log_opt", Ignored, whyOutput},
	{"services.*.attach", Ignored, whyOutput},
	{"services.*.tty", Ignored, whyOutput},
	{"services.*.stdin_open", Ignored, whyOutput},
	{"services.*.stop_signal", Ignored, whyStop},
	{"services.*.stop_grace_period", Ignored, whyStop},
	{"services.*.develop", Ignored, "`docker compose watch` syncs files into running containers for development; it changes nothing a service does"},
	{"services.*.pre_start", Refused, "lifecycle hooks have no equivalent; make the step a OneShot service the others wait for"},
	{"services.*.post_start", Refused, "lifecycle hooks have no equivalent; make the step a OneShot service the others wait for"},
	{"services.*.pre_stop", Refused, "lifecycle hooks have no equivalent"},
}

// rules indexes keyTable by key.
var rules = func() map[string]keyRule {
	m := make(map[string]keyRule, len(keyTable))
	for _, r := range keyTable {
		if _, dup := m[r.Key]; dup {
			panic("compose: keyTable has two rows for " + r.Key)
		}
		m[r.Key] = r
	}
	return m
}()

// unlisted is the rule of a key keyTable does not know.
func unlisted(key string) keyRule {
	return keyRule{Key: key, Handling: Refused, Why: "the translation does not know this key"}
}

// ruleFor finds the row for a key: its own, or the nearest Ignored or
// Refused row above it. Extension fields ("x-*") are ignored wherever they
// are.
func ruleFor(key string) keyRule {
	if r, ok := rules[key]; ok {
		return r
	}
	parts := strings.Split(key, ".")
	for _, p := range parts {
		if p == "x-*" {
			return rules["x-*"]
		}
	}
	for i := len(parts) - 1; i > 0; i-- {
		if r, ok := rules[strings.Join(parts[:i], ".")]; ok && r.Handling != Mapped {
			return r
		}
	}
	return unlisted(key)
}
