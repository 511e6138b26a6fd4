package compose

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// markOneShots sets OneShot on the services some dependent waits to see
// complete (service_completed_successfully): a job that runs to the end,
// not a service. Such a service must not be restarted by compose either,
// or the two would disagree about what it is.
func markOneShots(p *types.Project, services map[string]Service) error {
	waiters := map[string][]string{}
	for _, name := range sortedNames(services) {
		for _, d := range services[name].DependsOn {
			if d.Condition == Completed {
				waiters[d.Service] = append(waiters[d.Service], name)
			}
		}
	}
	var errs []error
	for _, name := range sortedNames(waiters) {
		svc, ok := services[name]
		if !ok {
			continue // required: false and not running: nothing waits for it
		}
		if r := p.Services[name].Restart; r != "" && r != types.RestartPolicyNo {
			errs = append(errs, fmt.Errorf("service %q: restart is %q but %s waits for it to complete (service_completed_successfully): a job must not be restarted; set restart: \"no\"",
				name, r, strings.Join(waiters[name], ", ")))
			continue
		}
		svc.OneShot = true
		services[name] = svc
	}
	return errors.Join(errs...)
}

// dependencyOrder sorts services so that each comes after every service it
// depends on; among services whose dependencies are all placed, the first
// by name goes first, so the order is stable.
func dependencyOrder(services map[string]Service) ([]Service, error) {
	pending := map[string]int{}
	dependents := map[string][]string{}
	for name, svc := range services {
		pending[name] += 0
		for _, d := range svc.DependsOn {
			if _, running := services[d.Service]; !running {
				continue
			}
			pending[name]++
			dependents[d.Service] = append(dependents[d.Service], name)
		}
	}
	var ready []string
	for name, n := range pending {
		if n == 0 {
			ready = append(ready, name)
		}
	}
	ordered := make([]Service, 0, len(services))
	for len(ready) > 0 {
		sort.Strings(ready)
		name := ready[0]
		ready = ready[1:]
		ordered = append(ordered, services[name])
		delete(pending, name)
		for _, dep := range dependents[name] {
			if pending[dep]--; pending[dep] == 0 {
				ready = append(ready, dep)
			}
		}
	}
	if len(pending) > 0 {
		return nil, fmt.Errorf("depends_on has a cycle among %s: no order starts them; remove one of the dependencies", strings.Join(sortedNames(pending), ", "))
	}
	return ordered, nil
}
