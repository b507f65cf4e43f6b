package docs

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/halyardhq/halyard/docs/internal/yamljson"
)

// TestDocumentIsValidOpenAPI3 loads the served document with kin-openapi
// and validates it as OpenAPI 3, examples included (each example must
// match its schema).
func TestDocumentIsValidOpenAPI3(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(Document)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi %q, want the 3.0 family (as Lantern's swagger.json)", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
	// Every operation: a tag, an operationId, and every response with a
	// description; every JSON response with a schema and an example.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			at := method + " " + path
			if len(op.Tags) == 0 || op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: needs tags, an operationId and a summary", at)
			}
			for status, resp := range op.Responses.Map() {
				for mt, media := range resp.Value.Content {
					if !strings.HasSuffix(mt, "json") {
						continue
					}
					if media.Schema == nil {
						t.Errorf("%s %s %s: no schema", at, status, mt)
					}
					if media.Example == nil && len(media.Examples) == 0 && (media.Schema == nil || media.Schema.Value.Example == nil) {
						t.Errorf("%s %s %s: no example", at, status, mt)
					}
				}
			}
		}
	}
}

// TestDocumentFilesAgree checks that openapi.json is openapi.yaml converted
// and that the top-level swagger.json is the same bytes: run
// `go generate ./docs` after editing openapi.yaml.
func TestDocumentFilesAgree(t *testing.T) {
	src, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := yamljson.Convert(src)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(Document, want) {
		t.Fatal("docs/openapi.json is not docs/openapi.yaml converted: run `go generate ./docs`")
	}
	top, err := os.ReadFile("../swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(top, Document) {
		t.Fatal("swagger.json differs from the document served at /docs/swagger.json: run `go generate ./docs`")
	}
}

func get(t *testing.T, e *echo.Echo, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	e.ServeHTTP(rec, req)
	return rec
}

// TestRoutes serves the document and Swagger UI from a bare echo.
func TestRoutes(t *testing.T) {
	e := echo.New()
	Register(e)

	rec := get(t, e, "/docs/swagger.json")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("swagger.json: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	top, err := os.ReadFile("../swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rec.Body.Bytes(), top) {
		t.Fatal("GET /docs/swagger.json is not the bytes of the top-level swagger.json")
	}

	rec = get(t, e, "/docs")
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/docs/" {
		t.Fatalf("/docs: %d Location %q", rec.Code, rec.Header().Get("Location"))
	}
	for _, path := range []string{"/docs/", "/docs/index.html"} {
		rec = get(t, e, path)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "swagger-ui-bundle.js") || !strings.Contains(body, `url: "\/docs\/swagger.json"`) {
			t.Fatalf("%s: %d %q\n%s", path, rec.Code, rec.Header().Get("Content-Type"), body[strings.Index(body, "SwaggerUIBundle("):])
		}
	}
	for _, asset := range []string{"/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/docs/swagger-ui-standalone-preset.js"} {
		rec = get(t, e, asset)
		if rec.Code != 200 || rec.Body.Len() < 1000 {
			t.Fatalf("%s: %d, %d bytes", asset, rec.Code, rec.Body.Len())
		}
	}
	// echo-swagger's own document route serves the same document.
	rec = get(t, e, "/docs/doc.json")
	if b, _ := io.ReadAll(rec.Body); rec.Code != 200 || !bytes.Equal(b, Document) {
		t.Fatalf("/docs/doc.json: %d", rec.Code)
	}
}
