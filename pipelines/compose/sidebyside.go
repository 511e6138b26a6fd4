package compose

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
)

// SideBySide loads the stack of every environment in envs as Load does
// (env file .env.<env> in dir, project name project(env)) and refuses two
// that publish the same host port: the guide runs environments side by
// side on one host, where the second `docker compose up` would fail on a
// port already in use. Each clash names the env file, the service, the port,
// the env-file keys that set it (e.g. DAGSTER_WEBSERVER_PORT) and the
// environment that publishes it already, so a copied env file says which
// lines to change. extra are the variables exported in the shell.
func SideBySide(ctx context.Context, dir string, envs []string, project func(env string) string, extra map[string]string) error {
	type owner struct{ env, service string }
	taken := map[string]owner{}
	var errs []error
	for _, env := range envs {
		envFile := ".env." + env
		p, err := Load(ctx, dir, envFile, project(env), extra)
		if err != nil {
			return err
		}
		keys, err := portKeys(ctx, dir, p)
		if err != nil {
			return err
		}
		for _, name := range p.ServiceNames() {
			for _, port := range p.Services[name].Ports {
				if port.Published == "" {
					continue
				}
				addr := port.HostIP + ":" + port.Published
				first, clash := taken[addr]
				if !clash {
					taken[addr] = owner{env, name}
					continue
				}
				errs = append(errs, portClash(filepath.Join(dir, envFile), name, port, keys[name][port.Published], first.env, filepath.Join(dir, ".env."+first.env), first.service))
			}
		}
	}
	return errors.Join(errs...)
}

func portClash(file, service string, port types.ServicePortConfig, keys []string, other, otherFile, otherService string) error {
	host := port.Published
	if port.HostIP != "" {
		host = port.HostIP + ":" + host
	}
	fix := "give " + service + " another host port"
	if len(keys) > 0 {
		fix = "set " + strings.Join(keys, ", ") + " in this file to a free port"
	}
	return fmt.Errorf("%s: %s publishes host port %s, as environment %s does (%s %s): %s so both run side by side",
		file, service, host, other, otherFile, otherService, fix)
}

// portKeys returns, per service and published host port, the variables of
// the compose files that set it: the same files, merged as docker compose
// merges them, read before interpolation.
func portKeys(ctx context.Context, dir string, p *types.Project) (map[string]map[string][]string, error) {
	opts, err := cli.NewProjectOptions(p.ComposeFiles, cli.WithWorkingDirectory(dir), cli.WithName(p.Name), cli.WithInterpolation(false))
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", p.Name, err)
	}
	model, err := opts.LoadModel(ctx)
	if err != nil {
		return nil, fmt.Errorf("compose %s: %w", p.Name, err)
	}
	out := map[string]map[string][]string{}
	services, _ := model["services"].(map[string]any)
	for name, svc := range services {
		def, _ := svc.(map[string]any)
		entries, _ := def["ports"].([]any)
		for _, entry := range entries {
			published, raw := publishedOf(entry, p.Environment)
			for _, host := range published {
				if out[name] == nil {
					out[name] = map[string][]string{}
				}
				for v := range template.ExtractVariables(map[string]any{"published": raw}, nil) {
					if !slices.Contains(out[name][host], v) {
						out[name][host] = append(out[name][host], v)
					}
				}
				sort.Strings(out[name][host])
			}
		}
	}
	return out, nil
}

// publishedOf returns the host ports a raw ports entry publishes with env,
// and the raw text that sets them.
func publishedOf(entry any, env types.Mapping) ([]string, string) {
	switch e := entry.(type) {
	case string: // short syntax: [HOST_IP:]HOST:CONTAINER[/PROTOCOL]
		value, err := template.Substitute(e, env.Resolve)
		if err != nil {
			return nil, ""
		}
		configs, err := types.ParsePortConfig(value)
		if err != nil {
			return nil, ""
		}
		var out []string
		for _, c := range configs {
			out = append(out, c.Published)
		}
		return out, e
	case map[string]any: // long syntax: the published field
		raw := fmt.Sprint(e["published"])
		value, err := template.Substitute(raw, env.Resolve)
		if err != nil {
			return nil, ""
		}
		return []string{value}, raw
	}
	return nil, ""
}
