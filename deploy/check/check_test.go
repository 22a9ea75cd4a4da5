// Package check validates the deployment files against the Kubernetes API
// types (a document that names a field the API does not have, or gives a
// field a value of the wrong type, fails) and against grpcsniff's own
// command line. It is a module of its own so that the Kubernetes API
// packages stay out of grpcsniff's dependencies.
package check

import (
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

func documents(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs [][]byte
	for _, d := range bytes.Split(b, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// The DaemonSet runs grpcsniff on the host network, as a non-root user
// with only NET_RAW and NET_ADMIN, with flags grpcsniff has.
func TestDaemonSet(t *testing.T) {
	docs := documents(t, "../daemonset.yaml")
	if len(docs) != 2 {
		t.Fatalf("%d documents, want the namespace and the DaemonSet", len(docs))
	}
	var ns corev1.Namespace
	if err := yaml.UnmarshalStrict(docs[0], &ns); err != nil || ns.Kind != "Namespace" {
		t.Fatalf("namespace: %v (%s)", err, ns.Kind)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(docs[1], &ds); err != nil {
		t.Fatalf("DaemonSet: %v", err)
	}
	spec := ds.Spec.Template.Spec
	if ds.Kind != "DaemonSet" || ds.Namespace != ns.Name || !spec.HostNetwork || len(spec.Containers) != 1 {
		t.Fatalf("kind %s, namespace %s, host network %v, %d containers", ds.Kind, ds.Namespace, spec.HostNetwork, len(spec.Containers))
	}
	if !equalLabels(ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels) {
		t.Errorf("selector %v does not select the pods' labels %v", ds.Spec.Selector.MatchLabels, ds.Spec.Template.Labels)
	}
	c := spec.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Fatalf("the container must run as a non-root user: %+v", sc)
	}
	var add []string
	for _, a := range sc.Capabilities.Add {
		add = append(add, string(a))
	}
	slices.Sort(add)
	if !slices.Equal(add, []string{"NET_ADMIN", "NET_RAW"}) || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("capabilities %v, want all dropped but NET_RAW and NET_ADMIN", sc.Capabilities)
	}
	help := grpcsniffHelp(t)
	for _, a := range c.Args {
		if strings.HasPrefix(a, "-") && !strings.Contains(help, a+" ") && !strings.Contains(help, a+",") {
			t.Errorf("grpcsniff has no flag %s (grpcsniff --help)", a)
		}
	}
}

func equalLabels(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) > 0
}

// grpcsniffHelp is grpcsniff's --help, built from this repository.
func grpcsniffHelp(t *testing.T) string {
	cmd := exec.Command("go", "run", "./cmd/grpcsniff", "--help")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Fatalf("grpcsniff --help: %v", err)
	}
	return string(out)
}
