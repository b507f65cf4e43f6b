// Package yamljson converts a YAML document to indented JSON, keeping the
// order of mapping keys, so the OpenAPI document can be written in YAML
// (readable prose, comments) and served as JSON in the order it was
// written.
package yamljson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Convert returns src, one YAML document, as JSON indented by two spaces
// and ending in a newline. Mapping keys must be strings and unique; anchors
// and aliases are expanded; merge keys (<<) are refused.
func Convert(src []byte) ([]byte, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || dec.Decode(&extra) != io.EOF {
		return nil, fmt.Errorf("want exactly one YAML document")
	}
	var b bytes.Buffer
	if err := write(&b, doc.Content[0], "", 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// maxDepth bounds alias expansion, so a cyclic alias is an error rather
// than a hang.
const maxDepth = 100

func write(b *bytes.Buffer, n *yaml.Node, indent string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("line %d: nesting deeper than %d (a cyclic alias?)", n.Line, maxDepth)
	}
	inner := indent + "  "
	switch n.Kind {
	case yaml.AliasNode:
		return write(b, n.Alias, indent, depth+1)
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			b.WriteString("{}")
			return nil
		}
		seen := map[string]bool{}
		b.WriteString("{\n")
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return fmt.Errorf("line %d: mapping keys must be plain strings", k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(inner)
			writeString(b, k.Value)
			b.WriteString(": ")
			if err := write(b, v, inner, depth+1); err != nil {
				return err
			}
		}
		b.WriteString("\n" + indent + "}")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteString("[\n")
		for i, v := range n.Content {
			if i > 0 {
				b.WriteString(",\n")
			}
			b.WriteString(inner)
			if err := write(b, v, inner, depth+1); err != nil {
				return err
			}
		}
		b.WriteString("\n" + indent + "]")
	case yaml.ScalarNode:
		return writeScalar(b, n)
	default:
		return fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
	return nil
}

func writeScalar(b *bytes.Buffer, n *yaml.Node) error {
	switch n.ShortTag() {
	case "!!str", "!!binary", "!!timestamp":
		writeString(b, n.Value)
	case "!!null":
		b.WriteString("null")
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return err
		}
		b.WriteString(strconv.FormatBool(v))
	case "!!int":
		var v int64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		b.WriteString(strconv.FormatInt(v, 10))
	case "!!float":
		var v float64
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %v", n.Line, err)
		}
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("line %d: %s has no JSON form", n.Line, n.Value)
		}
		b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
	default:
		return fmt.Errorf("line %d: unsupported tag %s", n.Line, n.Tag)
	}
	return nil
}

// writeString writes s as a JSON string without HTML escaping.
func writeString(b *bytes.Buffer, s string) {
	var tmp bytes.Buffer
	enc := json.NewEncoder(&tmp)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	b.WriteString(strings.TrimSuffix(tmp.String(), "\n"))
}
