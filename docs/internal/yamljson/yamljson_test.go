package yamljson

import "testing"

func TestConvert(t *testing.T) {
	cases := []struct {
		name, in, want string
		fails          bool
	}{
		{name: "order and types kept", in: "b: 1\na: [x, 2.5, true, null, \"3\"]\nc: {}\nd: []\n",
			want: "{\n  \"b\": 1,\n  \"a\": [\n    \"x\",\n    2.5,\n    true,\n    null,\n    \"3\"\n  ],\n  \"c\": {},\n  \"d\": []\n}\n"},
		{name: "aliases expanded", in: "a: &v {k: <&>}\nb: *v\n",
			want: "{\n  \"a\": {\n    \"k\": \"<&>\"\n  },\n  \"b\": {\n    \"k\": \"<&>\"\n  }\n}\n"},
		{name: "block text", in: "d: |\n  line one\n  line two\n", want: "{\n  \"d\": \"line one\\nline two\\n\"\n}\n"},
		{name: "duplicate key", in: "a: 1\na: 2\n", fails: true},
		{name: "merge key", in: "a: &v {k: 1}\nb:\n  <<: *v\n", fails: true},
		{name: "two documents", in: "a: 1\n---\nb: 2\n", fails: true},
		{name: "infinity", in: "a: .inf\n", fails: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Convert([]byte(tc.in))
			if tc.fails {
				if err == nil {
					t.Fatalf("converted to %s, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
