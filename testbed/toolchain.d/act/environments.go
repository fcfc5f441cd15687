// GitHub deployment environments for act, which has none: a job that names an environment gets
// that environment's secrets and variables on top of the repository's, and enters it only from a
// branch its deployment branch policy admits. The test bed's local GitHub writes the settings
// (the same names and values the GitHub project gives each environment) to the JSON file named
// by $ACT_ENVIRONMENTS_FILE. Environment reviewers and wait timers are not modelled: an
// environment is entered as soon as its branch policy admits the run.
//
// This file is added to act's runner package by testbed/toolchain (build_act), which also renames
// getWorkflowSecrets and getWorkflowVars to their *Base forms and calls enterEnvironment before
// a job runs.
package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/nektos/act/pkg/common"
	"gopkg.in/yaml.v3"
)

type environmentSettings struct {
	Secrets map[string]string `json:"secrets"`
	Vars    map[string]string `json:"vars"`
	// Deployment branch policy: branch name patterns that may enter; nil admits every ref.
	Branches []string `json:"branches"`
}

type environmentsFile struct {
	// Repository variables, visible to every job.
	Vars         map[string]string              `json:"vars"`
	Environments map[string]environmentSettings `json:"environments"`
}

var (
	environmentsOnce   sync.Once
	environmentsLoaded environmentsFile
	environmentsErr    error
	// The environment each job resolved to, and the jobs being resolved right now (an environment
	// name is an expression, and evaluating it builds the contexts this file overlays).
	jobEnvironments sync.Map
	resolving       sync.Map
)

func loadEnvironments() (environmentsFile, error) {
	environmentsOnce.Do(func() {
		path := os.Getenv("ACT_ENVIRONMENTS_FILE")
		if path == "" {
			return
		}
		data, err := os.ReadFile(path)
		if err != nil {
			environmentsErr = fmt.Errorf("reading ACT_ENVIRONMENTS_FILE: %w", err)
			return
		}
		if err := json.Unmarshal(data, &environmentsLoaded); err != nil {
			environmentsErr = fmt.Errorf("parsing ACT_ENVIRONMENTS_FILE %s: %w", path, err)
		}
	})
	return environmentsLoaded, environmentsErr
}

// jobEnvironment is the name of the environment the job declares (`environment: NAME` or
// `environment: {name: NAME}`), evaluated, or "" for none.
func (rc *RunContext) jobEnvironment(ctx context.Context) string {
	if rc.Run == nil || rc.Run.Job() == nil {
		return ""
	}
	if name, ok := jobEnvironments.Load(rc); ok {
		return name.(string)
	}
	if _, busy := resolving.LoadOrStore(rc, true); busy {
		return ""
	}
	defer resolving.Delete(rc)
	node := rc.Run.Job().RawEnvironment
	var raw string
	switch node.Kind {
	case yaml.ScalarNode:
		raw = node.Value
	case yaml.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == "name" {
				raw = node.Content[i+1].Value
			}
		}
	}
	name := ""
	if raw != "" {
		name = rc.NewExpressionEvaluator(ctx).Interpolate(ctx, raw)
	}
	jobEnvironments.Store(rc, name)
	return name
}

func overlay(base, extra map[string]string) map[string]string {
	merged := make(map[string]string, len(base)+len(extra))
	for k, v := range base {
		merged[k] = v
	}
	for k, v := range extra {
		merged[k] = v
	}
	return merged
}

func getWorkflowSecrets(ctx context.Context, rc *RunContext) map[string]string {
	base := getWorkflowSecretsBase(ctx, rc)
	settings, _ := loadEnvironments()
	if name := rc.jobEnvironment(ctx); name != "" {
		return overlay(base, settings.Environments[name].Secrets)
	}
	return base
}

func getWorkflowVars(ctx context.Context, rc *RunContext) map[string]string {
	settings, _ := loadEnvironments()
	base := overlay(getWorkflowVarsBase(ctx, rc), settings.Vars)
	if name := rc.jobEnvironment(ctx); name != "" {
		return overlay(base, settings.Environments[name].Vars)
	}
	return base
}

// withEnvironmentSecrets adds every environment's secret values to the ones the log masks.
func withEnvironmentSecrets(secrets map[string]string) map[string]string {
	settings, _ := loadEnvironments()
	masked := overlay(secrets, nil)
	for name, environment := range settings.Environments {
		for key, value := range environment.Secrets {
			masked[name+"/"+key] = value
		}
	}
	return masked
}

// branchPattern compiles a deployment branch policy pattern as GitHub matches it: `*` and `?`
// stop at `/`, `**` crosses it.
func branchPattern(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch {
		case strings.HasPrefix(pattern[i:], "**"):
			b.WriteString(".*")
			i++
		case pattern[i] == '*':
			b.WriteString("[^/]*")
		case pattern[i] == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// enterEnvironment refuses a job whose environment's branch policy does not admit the run's
// ref, before any step runs, as GitHub does. Only branches can match a policy: a pull request's
// merge ref or a tag never does.
func (rc *RunContext) enterEnvironment(ctx context.Context) error {
	name := rc.jobEnvironment(ctx)
	if name == "" {
		return nil
	}
	settings, err := loadEnvironments()
	if err != nil {
		return err
	}
	environment, known := settings.Environments[name]
	if !known {
		return fmt.Errorf("environment %q does not exist in this repository", name)
	}
	ref := rc.getGithubContext(ctx).Ref
	if environment.Branches != nil {
		branch, isBranch := strings.CutPrefix(ref, "refs/heads/")
		admitted := false
		for _, pattern := range environment.Branches {
			if isBranch && branchPattern(pattern).MatchString(branch) {
				admitted = true
			}
		}
		if !admitted {
			return fmt.Errorf("%q is not allowed to deploy to %s due to environment protection rules", ref, name)
		}
	}
	common.Logger(ctx).Infof("entered environment %s from %s", name, ref)
	return nil
}
