// Command helmlite renders a Helm chart the way `helm template` does, for machines that have
// Debian's Go toolchain and sprig but no helm binary. It implements the part of Helm's engine
// that this project's chart uses: text/template with sprig, Helm's extra functions (include,
// tpl, required, toYaml, fromYaml, toJson, fromJson, lookup), the built-in objects, values
// merging, values.schema.json validation and a YAML parse of every rendered document.
// The workflows still run the real helm; this exists so the chart is checked offline too.
//
// Usage: helmlite template RELEASE CHART [-f values.yaml]... [-n NAMESPACE] [--kube-version V]
//
//	[--notes]   print the rendered NOTES.txt instead of the manifests
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"github.com/xeipuuv/gojsonschema"
	yaml3 "gopkg.in/yaml.v3"
	"sigs.k8s.io/yaml"
)

type options struct {
	release, chart, namespace, kubeVersion string
	valueFiles                             []string
	notes                                  bool
}

func main() {
	opts, err := parseArgs(os.Args[1:])
	if err == nil {
		err = run(opts, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func parseArgs(args []string) (options, error) {
	opts := options{namespace: "default", kubeVersion: "v1.33.0"}
	if len(args) == 0 || args[0] != "template" {
		return opts, errors.New("usage: helmlite template RELEASE CHART [-f FILE]... [-n NS] [--kube-version V] [--notes]")
	}
	var positional []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		next := func() (string, error) {
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch {
		case a == "-f" || a == "--values":
			v, err = next()
			opts.valueFiles = append(opts.valueFiles, v)
		case strings.HasPrefix(a, "--values="):
			opts.valueFiles = append(opts.valueFiles, strings.TrimPrefix(a, "--values="))
		case a == "-n" || a == "--namespace":
			opts.namespace, err = next()
		case a == "--kube-version":
			opts.kubeVersion, err = next()
		case a == "--notes":
			opts.notes = true
		case strings.HasPrefix(a, "-"):
			return opts, fmt.Errorf("unknown flag %s", a)
		default:
			positional = append(positional, a)
		}
		if err != nil {
			return opts, err
		}
	}
	if len(positional) != 2 {
		return opts, errors.New("expected RELEASE and CHART")
	}
	opts.release, opts.chart = positional[0], positional[1]
	return opts, nil
}

func readYAMLMap(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if out == nil {
		out = map[string]interface{}{}
	}
	return out, nil
}

// merge overlays src onto dst like Helm's coalescing: maps merge key by key, anything else
// replaces, and an explicit null removes the default.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func validateSchema(chartDir string, values map[string]interface{}) error {
	schema, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewGoLoader(values))
	if err != nil {
		return fmt.Errorf("values.schema.json: %w", err)
	}
	if result.Valid() {
		return nil
	}
	var b strings.Builder
	b.WriteString("values don't meet the specifications of the schema(s) in the following chart(s):\n")
	b.WriteString(filepath.Base(chartDir) + ":\n")
	for _, e := range result.Errors() {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	return errors.New(strings.TrimSuffix(b.String(), "\n"))
}

// chartObject exposes Chart.yaml with Helm's capitalised field names.
func chartObject(meta map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range meta {
		switch k {
		case "apiVersion":
			out["APIVersion"] = v
		default:
			out[strings.ToUpper(k[:1])+k[1:]] = v
		}
	}
	return out
}

type apiVersions []string

// Has mirrors .Capabilities.APIVersions.Has.
func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func helmFuncs(root **template.Template) template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these so a chart cannot read the machine's environment.
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = toYAML
	f["mustToYaml"] = func(v interface{}) (string, error) {
		data, err := yaml.Marshal(v)
		return strings.TrimSuffix(string(data), "\n"), err
	}
	f["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["fromYamlArray"] = func(s string) []interface{} {
		a := []interface{}{}
		if err := yaml.Unmarshal([]byte(s), &a); err != nil {
			a = []interface{}{err.Error()}
		}
		return a
	}
	f["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	f["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	f["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return v, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return v, errors.New(msg)
		}
		return v, nil
	}
	// Like `helm template`, there is no cluster to look anything up in.
	f["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	f["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := (*root).ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	f["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := (*root).Clone()
		if err != nil {
			return "", err
		}
		t, err := clone.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	return f
}

func run(opts options, out io.Writer) error {
	chartDir := filepath.Clean(opts.chart)
	meta, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return err
	}
	chartName, _ := meta["name"].(string)
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return err
	}
	for _, f := range opts.valueFiles {
		user, err := readYAMLMap(f)
		if err != nil {
			return err
		}
		values = merge(values, user)
	}
	if err := validateSchema(chartDir, values); err != nil {
		return err
	}

	var root *template.Template
	root = template.New("gotpl").Option("missingkey=zero").Funcs(helmFuncs(&root))
	var names []string
	templatesDir := filepath.Join(chartDir, "templates")
	err = filepath.WalkDir(templatesDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(chartDir, path)
		name := chartName + "/" + filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if _, err := root.New(name).Parse(string(data)); err != nil {
			return err
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)

	major, minor := "1", "33"
	if parts := strings.SplitN(strings.TrimPrefix(opts.kubeVersion, "v"), ".", 3); len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	top := map[string]interface{}{
		"Values": values,
		"Release": map[string]interface{}{
			"Name": opts.release, "Namespace": opts.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Chart": chartObject(meta),
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": opts.kubeVersion, "GitVersion": opts.kubeVersion, "Major": major, "Minor": minor,
			},
			"APIVersions": apiVersions{
				"v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1", "batch/v1",
			},
		},
	}

	var manifests bytes.Buffer
	for _, name := range names {
		base := filepath.Base(name)
		isNotes := base == "NOTES.txt"
		if strings.HasPrefix(base, "_") || isNotes != opts.notes {
			continue
		}
		if !isNotes && !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, name, top); err != nil {
			return err
		}
		rendered := strings.ReplaceAll(buf.String(), "<no value>", "")
		if isNotes {
			_, err := io.WriteString(out, rendered)
			return err
		}
		if strings.TrimSpace(rendered) == "" {
			continue
		}
		if err := checkYAML(name, rendered); err != nil {
			return err
		}
		fmt.Fprintf(&manifests, "---\n# Source: %s\n%s\n", name, strings.TrimRight(rendered, "\n"))
	}
	_, err = out.Write(manifests.Bytes())
	return err
}

// checkYAML fails like Helm does when a template renders something that is not YAML.
func checkYAML(name, text string) error {
	dec := yaml3.NewDecoder(strings.NewReader(text))
	for i := 0; ; i++ {
		var doc interface{}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("YAML parse error on %s (document %d): %w", name, i, err)
		}
		if doc == nil {
			continue
		}
		if _, ok := doc.(map[string]interface{}); !ok {
			return fmt.Errorf("YAML parse error on %s (document %d): not a mapping", name, i)
		}
	}
}
