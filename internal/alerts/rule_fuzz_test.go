package alerts

import "testing"

// FuzzParseRules: any input either fails with an error or gives rules that
// all pass Validate again and have distinct names.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte("alerts:\n  - name: a\n    kind: new_issue\n    destinations: [{type: webhook, url: http://x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(data)
		if err != nil {
			return
		}
		names := map[string]bool{}
		for i := range rules {
			if err := rules[i].Validate(); err != nil {
				t.Fatalf("rule %d passed ParseRules but not Validate: %v", i, err)
			}
			if names[rules[i].Name] {
				t.Fatalf("name %q twice", rules[i].Name)
			}
			names[rules[i].Name] = true
			if rules[i].Kind == KindQueryThreshold && rules[i].q == nil {
				t.Fatalf("threshold rule without its parsed query")
			}
		}
	})
}
