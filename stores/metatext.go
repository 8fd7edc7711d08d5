package stores

import (
	"bytes"

	"gopkg.in/yaml.v3"
)

// WithoutMeta returns compose without its top-level x-stackhub block, for
// compose-go and the Compose SDK. The block is text for people (a
// description may hold "$2a$10$…", a bcrypt hash, or "$5 a month"), never
// compose settings: the compose loader would interpolate it, warn about
// "variables" that are not set and mangle the text. Nothing the engine
// runs reads it. A file that is not valid YAML is returned as it is, so
// the loader reports the error.
func WithoutMeta(compose []byte) []byte {
	if !bytes.Contains(compose, []byte("x-stackhub")) {
		return compose
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(compose, &doc); err != nil || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return compose
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return compose
	}
	found := false
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "x-stackhub" {
			root.Content = append(root.Content[:i:i], root.Content[i+2:]...)
			found = true
			break
		}
	}
	if !found {
		return compose
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return compose
	}
	if err := enc.Close(); err != nil {
		return compose
	}
	return buf.Bytes()
}
